package io.perlspark.model.learn;

/** Gradient clipping by global L2 norm, with PyTorch's {@code clip_grad_norm_} semantics. */
public final class GradClip {
  /** PyTorch adds this to the norm before dividing. */
  static final double NORM_EPS = 1e-6;

  private GradClip() {}

  /** L2 norm of the whole buffer, accumulated in double. */
  public static double globalNorm(float[] grad) {
    double sum = 0;
    for (float g : grad) {
      sum += (double) g * g;
    }
    return Math.sqrt(sum);
  }

  /**
   * Scales {@code grad} in place by {@code min(1, maxNorm / (norm + 1e-6))}.
   *
   * @param maxNorm &gt; 0; {@code Double.POSITIVE_INFINITY} only measures
   * @return the norm before clipping; when it is not finite (NaN or ∞) the gradient is left
   *     unchanged and the caller should skip the optimizer step
   */
  public static double clipByGlobalNorm(float[] grad, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("maxNorm must be > 0 (or +Infinity to only measure), got " + maxNorm);
    }
    double norm = globalNorm(grad);
    if (!Double.isFinite(norm)) {
      return norm;
    }
    double coef = maxNorm / (norm + NORM_EPS);
    if (coef < 1.0) {
      for (int i = 0; i < grad.length; i++) {
        grad[i] = (float) (grad[i] * coef);
      }
    }
    return norm;
  }
}
