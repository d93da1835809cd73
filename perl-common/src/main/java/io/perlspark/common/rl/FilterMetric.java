package io.perlspark.common.rl;

import java.util.Locale;

/** Which per-response value the online group filter looks at. */
public enum FilterMetric {
  /** The accuracy component (0/1): drops groups that are all right or all wrong. */
  ACCURACY,
  /** The total reward: a group all right but with mixed format still has a signal. */
  REWARD;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code accuracy} / {@code reward}, case-insensitively. */
  public static FilterMetric parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("filter metric is missing; allowed: accuracy, reward");
    }
    String norm = s.trim().toUpperCase(Locale.ROOT);
    for (FilterMetric m : values()) {
      if (m.name().equals(norm)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown filter metric '" + s + "'; allowed: accuracy, reward");
  }
}
