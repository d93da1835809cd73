package io.perlspark.common.rl;

import java.io.Serializable;

/**
 * PeRL's offline difficulty filter: a prompt is kept when the base policy's pass rate over
 * {@code m} attempts lies within the bounds. The default, exclusive {@code (0, 1)}, drops exactly
 * the prompts that are always solved or never solved — they would give zero-variance groups.
 *
 * @param minAcc lower bound of the pass rate, in [0, 1]
 * @param maxAcc upper bound of the pass rate, in [minAcc, 1]
 * @param inclusive whether a pass rate equal to a bound is kept
 */
public record OfflineDifficultyFilter(double minAcc, double maxAcc, boolean inclusive)
    implements Serializable {

  public OfflineDifficultyFilter {
    if (!(minAcc >= 0.0 && minAcc <= 1.0) || !(maxAcc >= 0.0 && maxAcc <= 1.0)) {
      throw new IllegalArgumentException("offline filter bounds must be in [0, 1], got minAcc="
          + minAcc + ", maxAcc=" + maxAcc);
    }
    if (minAcc > maxAcc) {
      throw new IllegalArgumentException("offline filter minAcc (" + minAcc
          + ") must not exceed maxAcc (" + maxAcc + ")");
    }
  }

  /** Exclusive bounds. */
  public OfflineDifficultyFilter(double minAcc, double maxAcc) {
    this(minAcc, maxAcc, false);
  }

  /** Drops pass rates of exactly 0 and exactly 1. */
  public static OfflineDifficultyFilter defaults() {
    return new OfflineDifficultyFilter(0.0, 1.0, false);
  }

  public boolean keep(double passRate) {
    if (!(passRate >= 0.0 && passRate <= 1.0)) {
      throw new IllegalArgumentException("pass rate must be in [0, 1], got " + passRate);
    }
    return inclusive
        ? passRate >= minAcc && passRate <= maxAcc
        : passRate > minAcc && passRate < maxAcc;
  }

  /** Keep decision from {@code correct} right answers out of {@code attempts}. */
  public boolean keep(int correct, int attempts) {
    if (attempts < 1 || correct < 0 || correct > attempts) {
      throw new IllegalArgumentException("need 0 <= correct <= attempts and attempts >= 1, got "
          + correct + "/" + attempts);
    }
    // Compare counts exactly at the bounds: correct/attempts is exact only for some attempts.
    if (correct == 0 || correct == attempts) {
      return keep(correct == 0 ? 0.0 : 1.0);
    }
    return keep((double) correct / attempts);
  }
}
