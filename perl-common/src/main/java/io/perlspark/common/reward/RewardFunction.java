package io.perlspark.common.reward;

import io.perlspark.common.data.Sample;
import java.io.Serializable;

/**
 * Scores one response to one prompt. Implementations are shipped to Spark executors inside the
 * rollout closure, hence Serializable; they must be stateless and deterministic.
 */
@FunctionalInterface
public interface RewardFunction extends Serializable {

  /**
   * @param response the decoded response text (without the prompt)
   * @param sample the prompt the response answers; its answer is the ground truth
   */
  RewardResult score(String response, Sample sample);
}
