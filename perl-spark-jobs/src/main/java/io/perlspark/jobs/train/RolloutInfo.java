package io.perlspark.jobs.train;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Row;

/** What the driver keeps of one response: enough for group statistics, advantages, metrics and logs. */
record RolloutInfo(String groupId, String id, int copy, int idx, double reward, double accuracy, double format,
    int length, boolean finished, double logpSum, String problem, String answer, String text)
    implements Serializable {

  static final String[] COLUMNS = {"group_id", "id", "copy", "idx", "reward", "accuracy", "format", "response_len",
    "finished", "old_logp", "problem", "answer", "response_text"};

  static RolloutInfo of(Row r) {
    List<Float> logp = r.getList(9);
    double sum = 0;
    for (Float f : logp) {
      sum += f;
    }
    return new RolloutInfo(r.getString(0), r.getString(1), r.getInt(2), r.getInt(3), r.getDouble(4), r.getDouble(5),
        r.getDouble(6), r.getInt(7), r.getBoolean(8), sum, r.getString(10), r.getString(11), r.getString(12));
  }

  String key() {
    return key(id, idx);
  }

  /** The one spelling of a response's key (sample id + response index), shared with the gradient stage. */
  static String key(String id, int idx) {
    return id + "/" + idx;
  }
}
