package io.perlspark.model.train;

import io.perlspark.model.policy.PolicyInput;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One rollout prepared for the GRPO update: the prompt, the sampled response, the log-probs it had
 * under the sampling (old) policy and the reference policy, and its advantage.
 *
 * @param prompt the prompt exactly as the response was sampled for it (images in the rollout's
 *     order)
 * @param response the generated tokens, eos included when the policy produced it; may be empty (it
 *     then contributes nothing to the loss)
 * @param oldLogProbs one per response token, under the policy that sampled it (at the rollout
 *     temperature)
 * @param refLogProbs one per response token under the frozen reference policy, or {@code null}
 *     when the loss uses no KL term ({@code klCoef = 0})
 * @param advantage the GRPO advantage of this response (every token gets it); finite
 */
public record TrainingExample(
    PolicyInput prompt, int[] response, float[] oldLogProbs, float[] refLogProbs, double advantage)
    implements Serializable {

  public TrainingExample {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(response, "response");
    Objects.requireNonNull(oldLogProbs, "oldLogProbs");
    if (oldLogProbs.length != response.length) {
      throw new IllegalArgumentException(
          "oldLogProbs has " + oldLogProbs.length + " values but the response has "
              + response.length + " tokens; need one per token");
    }
    if (refLogProbs != null && refLogProbs.length != response.length) {
      throw new IllegalArgumentException(
          "refLogProbs has " + refLogProbs.length + " values but the response has "
              + response.length + " tokens; need one per token (or null without KL)");
    }
    if (!Double.isFinite(advantage)) {
      throw new IllegalArgumentException("advantage must be finite, got " + advantage);
    }
  }

  /** Number of response tokens (the example's share of a token-mean normaliser). */
  public int tokenCount() {
    return response.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingExample other
        && prompt.equals(other.prompt)
        && Arrays.equals(response, other.response)
        && Arrays.equals(oldLogProbs, other.oldLogProbs)
        && Arrays.equals(refLogProbs, other.refLogProbs)
        && Double.compare(advantage, other.advantage) == 0;
  }

  @Override
  public int hashCode() {
    int h = prompt.hashCode();
    h = 31 * h + Arrays.hashCode(response);
    h = 31 * h + Arrays.hashCode(oldLogProbs);
    h = 31 * h + Arrays.hashCode(refLogProbs);
    return 31 * h + Double.hashCode(advantage);
  }

  @Override
  public String toString() {
    return "TrainingExample(" + prompt + ", " + response.length + " response tokens, advantage="
        + advantage + (refLogProbs == null ? ", no reference" : "") + ")";
  }
}
