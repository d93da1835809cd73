package io.perlspark.model.learn;

import java.io.Serializable;

/**
 * Sums flat gradients with the number of samples and tokens behind them — the value an executor
 * sends to the driver and that Spark's {@code treeAggregate} combines ({@link #add} as seqOp,
 * {@link #merge} as combOp, {@code new GradientAccumulator()} as the zero value).
 *
 * <p>When each part's loss was divided by the mini-batch's global normaliser (see {@code
 * GrpoLoss}), the plain sum is the mini-batch gradient; no re-weighting happens here.
 */
public final class GradientAccumulator implements Serializable {
  private float[] sum;
  private long samples;
  private long tokens;
  private long parts;

  /** The empty accumulator (identity of {@link #merge}). */
  public GradientAccumulator() {}

  /** Adds one part's gradient; the array is copied on the first add, so the caller may reuse it. */
  public GradientAccumulator add(float[] grad, long sampleCount, long tokenCount) {
    if (sampleCount < 0 || tokenCount < 0) {
      throw new IllegalArgumentException(
          "counts must be >= 0, got samples=" + sampleCount + ", tokens=" + tokenCount);
    }
    sum = sum == null ? grad.clone() : merge(sum, grad);
    samples += sampleCount;
    tokens += tokenCount;
    parts++;
    return this;
  }

  /** Adds {@code other} into this one and returns this; {@code other} is not changed. */
  public GradientAccumulator merge(GradientAccumulator other) {
    if (other.sum != null) {
      sum = sum == null ? other.sum.clone() : merge(sum, other.sum);
    }
    samples += other.samples;
    tokens += other.tokens;
    parts += other.parts;
    return this;
  }

  /**
   * Adds {@code b} into {@code a} element-wise and returns {@code a}; a null side is the identity
   * (so a null zero value works in {@code treeAggregate}).
   */
  public static float[] merge(float[] a, float[] b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "cannot add gradients of different sizes: " + a.length + " and " + b.length);
    }
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  /** The summed gradient, or null if nothing was added. Not a copy. */
  public float[] sum() {
    return sum;
  }

  public boolean isEmpty() {
    return sum == null;
  }

  public long samples() {
    return samples;
  }

  public long tokens() {
    return tokens;
  }

  /** How many parts (micro-batches) were added. */
  public long parts() {
    return parts;
  }
}
