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

  /** Reads a row of (at least) {@link #COLUMNS}, by column name. */
  static RolloutInfo of(Row r) {
    List<Float> logp = r.getList(r.fieldIndex("old_logp"));
    double sum = 0;
    for (Float f : logp) {
      sum += f;
    }
    return new RolloutInfo(r.getAs("group_id"), r.getAs("id"), r.<Integer>getAs("copy"), r.<Integer>getAs("idx"),
        r.<Double>getAs("reward"), r.<Double>getAs("accuracy"), r.<Double>getAs("format"),
        r.<Integer>getAs("response_len"), r.<Boolean>getAs("finished"), sum, r.getAs("problem"), r.getAs("answer"),
        r.getAs("response_text"));
  }

  String key() {
    return key(id, idx);
  }

  /** The one spelling of a response's key (sample id + response index), shared with the gradient stage. */
  static String key(String id, int idx) {
    return id + "/" + idx;
  }
}
