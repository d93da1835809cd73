package io.perlspark.jobs.train;

import java.io.Serializable;
import io.perlspark.jobs.rollout.Rollout;
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

  /** What the driver keeps of {@code r}; {@code partition} as above. */
  static RolloutInfo of(Rollout r, int partition) {
    double sum = 0;
    for (float f : r.oldLogp()) {
      sum += f;
    }
    Row prompt = r.prompt();
    return new RolloutInfo(r.groupId(), r.id(), r.copy(), r.idx(), r.reward(), r.accuracy(), r.format(),
        r.tokens().length, r.finished(), sum, prompt.getAs("problem"), prompt.getAs("answer"), r.text(), partition);
  }

  String key() {
    return key(id, idx);
  }

  /** The one spelling of a response's key (sample id + response index), shared with the gradient stage. */
  static String key(String id, int idx) {
    return id + "/" + idx;
  }
}
