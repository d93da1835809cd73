package io.perlspark.model.train;

import io.perlspark.model.loss.LossStats;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * The gradient of one share of a mini-batch (a partition's examples, all its micro-batches
 * accumulated) and the statistics behind it: what an executor sends to the driver.
 *
 * <p>Each part's loss was divided by the mini-batch's global normaliser, so the plain sum of the
 * parts' gradients is the mini-batch gradient ({@link #merge}). Float addition is not associative:
 * for bitwise-reproducible runs merge the parts in a fixed order (partition index), e.g. collect
 * them and fold left, rather than in task completion order.
 *
 * @param gradient flat, in {@link io.perlspark.model.policy.PolicyModel#trainableParameters()}
 *     order; {@code null} only in {@link #EMPTY}
 * @param stats GRPO loss statistics, or {@code null} for an SFT result
 * @param sftStats SFT loss statistics, or {@code null} for a GRPO result
 * @param tokens response tokens that took part
 * @param sequences examples that took part (empty responses included)
 * @param entropySum sum over those tokens of the policy's next-token entropy (nats) in the
 *     training forward; {@link #meanEntropy()} is the metric
 */
public record GradientResult(
    float[] gradient,
    LossStats stats,
    SftStats sftStats,
    long tokens,
    int sequences,
    double entropySum)
    implements Serializable {

  /** The identity of {@link #merge}: no gradient, no statistics. */
  public static final GradientResult EMPTY = new GradientResult(null, null, null, 0, 0, 0);

  public GradientResult {
    if (stats != null && sftStats != null) {
      throw new IllegalArgumentException("a gradient result is either GRPO or SFT, not both");
    }
    if (gradient == null && (stats != null || sftStats != null || tokens != 0 || sequences != 0)) {
      throw new IllegalArgumentException("only the EMPTY result may have no gradient");
    }
    if (tokens < 0 || sequences < 0) {
      throw new IllegalArgumentException(
          "counts must be >= 0, got tokens=" + tokens + ", sequences=" + sequences);
    }
  }

  /** A GRPO result. */
  public static GradientResult grpo(
      float[] gradient, LossStats stats, long tokens, int sequences, double entropySum) {
    return new GradientResult(
        Objects.requireNonNull(gradient, "gradient"), Objects.requireNonNull(stats, "stats"),
        null, tokens, sequences, entropySum);
  }

  /** An SFT result. */
  public static GradientResult sft(
      float[] gradient, SftStats stats, long tokens, int sequences, double entropySum) {
    return new GradientResult(
        Objects.requireNonNull(gradient, "gradient"), null, Objects.requireNonNull(stats, "stats"),
        tokens, sequences, entropySum);
  }

  public boolean isEmpty() {
    return gradient == null;
  }

  public boolean isGrpo() {
    return stats != null;
  }

  public boolean isSft() {
    return sftStats != null;
  }

  /** Mean next-token entropy over the response tokens; 0 when there were none. */
  public double meanEntropy() {
    return tokens == 0 ? 0.0 : entropySum / tokens;
  }

  /**
   * The sum of this part and {@code other} (this first): gradients added element-wise into a new
   * array, statistics and counts summed. Neither input is changed. {@link #EMPTY} is the identity.
   *
   * @throws IllegalArgumentException if the gradients differ in size or one part is GRPO and the
   *     other SFT
   */
  public GradientResult merge(GradientResult other) {
    Objects.requireNonNull(other, "other");
    if (other.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    if (isGrpo() != other.isGrpo()) {
      throw new IllegalArgumentException("cannot merge a GRPO gradient result with an SFT one");
    }
    if (gradient.length != other.gradient.length) {
      throw new IllegalArgumentException(
          "cannot add gradients of different sizes: " + gradient.length + " and "
              + other.gradient.length);
    }
    float[] sum = new float[gradient.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = gradient[i] + other.gradient[i];
    }
    return new GradientResult(
        sum,
        isGrpo() ? stats.merge(other.stats) : null,
        isSft() ? sftStats.merge(other.sftStats) : null,
        tokens + other.tokens,
        sequences + other.sequences,
        entropySum + other.entropySum);
  }

  /** The loss value of this part (its contribution to the mini-batch loss). */
  public double loss() {
    if (isGrpo()) {
      return stats.loss();
    }
    return isSft() ? sftStats.loss() : 0.0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GradientResult other
        && Arrays.equals(gradient, other.gradient)
        && Objects.equals(stats, other.stats)
        && Objects.equals(sftStats, other.sftStats)
        && tokens == other.tokens
        && sequences == other.sequences
        && Double.compare(entropySum, other.entropySum) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(gradient), stats, sftStats, tokens, sequences, entropySum);
  }

  @Override
  public String toString() {
    if (isEmpty()) {
      return "GradientResult.EMPTY";
    }
    return "GradientResult(" + (isGrpo() ? "grpo" : "sft") + ", " + gradient.length
        + " values, loss=" + loss() + ", " + tokens + " tokens, " + sequences + " sequences)";
  }
}
