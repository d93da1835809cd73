package io.perlspark.common.rl;

import java.io.Serializable;
import java.util.Objects;

/**
 * PeRL's online rollout filter. Drops a group whose chosen metric has zero variance (no GRPO
 * signal), and optionally a group whose mean accuracy lies outside
 * {@code [minGroupAcc, maxGroupAcc]} (bounds inclusive; null = no bound). The accuracy bounds use
 * the accuracy whatever the metric, as their names say.
 *
 * @param enabled when false every group is kept
 * @param metric the value whose variance decides zero-variance
 * @param minGroupAcc lowest mean accuracy kept, in [0, 1], or null
 * @param maxGroupAcc highest mean accuracy kept, in [0, 1], or null
 */
public record GroupFilter(boolean enabled, FilterMetric metric, Double minGroupAcc, Double maxGroupAcc)
    implements Serializable {

  public GroupFilter {
    Objects.requireNonNull(metric, "filter metric; allowed: accuracy, reward");
    checkBound("minGroupAcc", minGroupAcc);
    checkBound("maxGroupAcc", maxGroupAcc);
    if (minGroupAcc != null && maxGroupAcc != null && minGroupAcc > maxGroupAcc) {
      throw new IllegalArgumentException("minGroupAcc (" + minGroupAcc
          + ") must not exceed maxGroupAcc (" + maxGroupAcc + ")");
    }
  }

  /** Keeps everything. */
  public static GroupFilter disabled() {
    return new GroupFilter(false, FilterMetric.ACCURACY, null, null);
  }

  /** Drops zero-variance groups under the metric, no accuracy bounds. */
  public static GroupFilter zeroVariance(FilterMetric metric) {
    return new GroupFilter(true, metric, null, null);
  }

  public Decision decide(GroupStats stats) {
    Objects.requireNonNull(stats, "stats");
    if (!enabled) {
      return Decision.KEEP;
    }
    if (stats.isZeroVariance(metric)) {
      return Decision.drop(DropReason.ZERO_VARIANCE);
    }
    if (minGroupAcc != null && stats.meanAccuracy() < minGroupAcc) {
      return Decision.drop(DropReason.BELOW_MIN_ACC);
    }
    if (maxGroupAcc != null && stats.meanAccuracy() > maxGroupAcc) {
      return Decision.drop(DropReason.ABOVE_MAX_ACC);
    }
    return Decision.KEEP;
  }

  private static void checkBound(String name, Double v) {
    if (v != null && !(v >= 0.0 && v <= 1.0)) {
      throw new IllegalArgumentException(name + " must be in [0, 1] or unset, got " + v);
    }
  }
}
