package io.perlspark.jobs.rollout;

import java.io.Serializable;
import org.apache.spark.sql.Row;

/**
 * One sampled response with its scores, as the trainer caches it between its rollout and gradient
 * jobs: primitive arrays and the (permuted) prompt row, which the n responses of a prompt share.
 * Spark sizes every cached object graph it holds in memory; as a {@link RolloutSchema} row (boxed
 * numbers in Scala sequences) a response is ~100 objects to walk, as this a handful.
 *
 * @param prompt the permuted prompt's row ({@code PermutationTransform.SCHEMA}), read by column name
 * @param refLogp null without a KL reference
 * @param extracted the answer the reward function extracted; null when none
 */
public record Rollout(Row prompt, int idx, int[] tokens, float[] oldLogp, float[] refLogp, boolean finished,
    String text, String extracted, double reward, double accuracy, double format) implements Serializable {

  public String id() {
    return prompt.getAs("id");
  }

  public String groupId() {
    return prompt.getAs("group_id");
  }

  public int copy() {
    return prompt.<Integer>getAs("copy");
  }
}
