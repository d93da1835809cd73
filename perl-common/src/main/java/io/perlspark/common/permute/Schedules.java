package io.perlspark.common.permute;

/** Shared arithmetic of the schedules. */
final class Schedules {
  private Schedules() {}

  static double fraction(long step, long totalSteps) {
    if (totalSteps <= 0) {
      throw new IllegalArgumentException("totalSteps must be > 0, got " + totalSteps);
    }
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    return (double) step / (double) totalSteps;
  }

  static double clamp(double p) {
    return Math.max(0.0, Math.min(1.0, p));
  }

  static void requireFinite(String name, double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException("decay schedule " + name + " must be a finite number, got " + v);
    }
  }
}
