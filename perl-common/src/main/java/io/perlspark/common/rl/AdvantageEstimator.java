package io.perlspark.common.rl;

import java.util.Locale;

/** How group rewards become advantages. */
public enum AdvantageEstimator {
  /** {@code (r − mean) / (std + 1e-6)}, unbiased std. */
  GRPO("grpo", true),
  /** Dr. GRPO: {@code r − mean}, no division by the std (removes the difficulty bias). */
  DR_GRPO("drgrpo", false);

  private final String wireName;
  private final boolean scaleByStd;

  AdvantageEstimator(String wireName, boolean scaleByStd) {
    this.wireName = wireName;
    this.scaleByStd = scaleByStd;
  }

  public String wireName() {
    return wireName;
  }

  public boolean scaleByStd() {
    return scaleByStd;
  }

  /** Advantages of one group under this estimator. */
  public double[] compute(double[] rewards) {
    return GroupAdvantages.compute(rewards, scaleByStd);
  }

  /** Parses {@code grpo} / {@code drgrpo}; case, {@code _}, {@code -} and {@code .} are ignored. */
  public static AdvantageEstimator parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("advantage estimator is missing; allowed: grpo, drgrpo");
    }
    String norm = s.trim().toLowerCase(Locale.ROOT).replaceAll("[-_.\\s]", "");
    for (AdvantageEstimator e : values()) {
      if (e.wireName.equals(norm)) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown advantage estimator '" + s + "'; allowed: grpo, drgrpo");
  }
}
