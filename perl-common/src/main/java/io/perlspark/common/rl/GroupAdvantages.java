package io.perlspark.common.rl;

/**
 * GRPO group-relative advantages (docs/ARCHITECTURE.md "GRPO as implemented"): {@code A_i = (r_i − mean) / (std + 1e-6)} with
 * the unbiased std, or {@code r_i − mean} without std scaling (Dr. GRPO). Double precision
 * throughout; a group of equal rewards, or of one response, gets advantages of exactly 0.
 */
public final class GroupAdvantages {
  /** Added to the std so that near-constant groups do not explode (verl's epsilon). */
  public static final double EPSILON = 1e-6;

  private GroupAdvantages() {}

  /**
   * @param rewards the rewards of all responses of one group (original prompt and its permuted
   *     copies together), finite, at least one
   * @param scaleByStd divide by {@code std + 1e-6} (GRPO) or not (Dr. GRPO)
   * @return one advantage per reward, same order
   */
  public static double[] compute(double[] rewards, boolean scaleByStd) {
    Moments.requireValid(rewards, "rewards");
    double[] adv = new double[rewards.length];
    // A single response has no group to compare with; verl would use A = r, we use 0 (docs/ARCHITECTURE.md "GRPO as implemented").
    if (rewards.length == 1 || Moments.allEqual(rewards)) {
      return adv;
    }
    double mean = Moments.mean(rewards);
    double scale = scaleByStd ? Moments.unbiasedStd(rewards) + EPSILON : 1.0;
    for (int i = 0; i < rewards.length; i++) {
      adv[i] = (rewards[i] - mean) / scale;
    }
    return adv;
  }
}
