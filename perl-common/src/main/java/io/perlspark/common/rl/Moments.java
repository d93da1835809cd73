package io.perlspark.common.rl;

/**
 * Mean and unbiased standard deviation in double precision, exact for constant inputs: a group of
 * equal values must give std exactly 0 (zero-variance detection) and deviations exactly 0
 * (advantages), which a naive sum/n does not guarantee (0.1+0.1+0.1)/3 != 0.1.
 */
final class Moments {
  private Moments() {}

  static void requireValid(double[] values, String what) {
    if (values == null) {
      throw new IllegalArgumentException(what + " must not be null");
    }
    if (values.length == 0) {
      throw new IllegalArgumentException(what + " must not be empty (a group has at least one response)");
    }
    for (int i = 0; i < values.length; i++) {
      if (!Double.isFinite(values[i])) {
        throw new IllegalArgumentException(what + "[" + i + "] must be finite, got " + values[i]);
      }
    }
  }

  static boolean allEqual(double[] v) {
    for (int i = 1; i < v.length; i++) {
      if (v[i] != v[0]) {
        return false;
      }
    }
    return true;
  }

  static double mean(double[] v) {
    if (allEqual(v)) {
      return v[0];
    }
    double sum = 0.0;
    for (double x : v) {
      sum += x;
    }
    double mean = sum / v.length;
    // One correction pass removes most of the rounding error of the plain sum.
    double residual = 0.0;
    for (double x : v) {
      residual += x - mean;
    }
    return mean + residual / v.length;
  }

  /** Unbiased (n−1) standard deviation; 0 for a single value or equal values. */
  static double unbiasedStd(double[] v) {
    if (v.length < 2 || allEqual(v)) {
      return 0.0;
    }
    double mean = mean(v);
    double ss = 0.0;
    for (double x : v) {
      double d = x - mean;
      ss += d * d;
    }
    return Math.sqrt(ss / (v.length - 1));
  }
}
