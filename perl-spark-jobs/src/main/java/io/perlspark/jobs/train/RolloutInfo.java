package io.perlspark.jobs.train;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * What the driver keeps of one response: enough for group statistics, advantages, metrics and logs.
 *
 * @param partition the partition holding the response's row among all of the step's rollout
 *     partitions (round after round): the gradient jobs run only on partitions holding their groups
 */
record RolloutInfo(String groupId, String id, int copy, int idx, double reward, double accuracy, double format,
    int length, boolean finished, double logpSum, String problem, String answer, String text, int partition)
    implements Serializable {

  /** Reads a rollout row's columns by name; {@code partition} as above. */
  static RolloutInfo of(Row r, int partition) {
    List<Float> logp = r.getList(r.fieldIndex("old_logp"));
    double sum = 0;
    for (Float f : logp) {
      sum += f;
    }
    return new RolloutInfo(r.getAs("group_id"), r.getAs("id"), r.<Integer>getAs("copy"), r.<Integer>getAs("idx"),
        r.<Double>getAs("reward"), r.<Double>getAs("accuracy"), r.<Double>getAs("format"),
        r.<Integer>getAs("response_len"), r.<Boolean>getAs("finished"), sum, r.getAs("problem"), r.getAs("answer"),
        r.getAs("response_text"), partition);
  }

  String key() {
    return key(id, idx);
  }

  /** The one spelling of a response's key (sample id + response index), shared with the gradient stage. */
  static String key(String id, int idx) {
    return id + "/" + idx;
  }
}
