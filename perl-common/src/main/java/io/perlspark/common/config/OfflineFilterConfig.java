package io.perlspark.common.config;

import java.io.Serializable;

/**
 * Offline difficulty filter: the policy answers each prompt {@code rollouts} times before RL and
 * prompts are kept by pass rate.
 *
 * @param enabled whether to filter before training
 * @param rollouts answers per prompt used to estimate the pass rate, >= 1
 * @param minAcc lower pass-rate bound, in [0, 1]
 * @param maxAcc upper pass-rate bound, in [0, 1]
 * @param inclusive false (the paper's default): keep minAcc < passRate < maxAcc, i.e. drop prompts
 *     answered always or never; true: keep minAcc <= passRate <= maxAcc
 */
public record OfflineFilterConfig(
    boolean enabled, int rollouts, double minAcc, double maxAcc, boolean inclusive)
    implements Serializable {

  public static OfflineFilterConfig defaults() {
    return new OfflineFilterConfig(false, 10, 0.0, 1.0, false);
  }

  /** Whether a prompt with this pass rate is kept. */
  public boolean keeps(double passRate) {
    return inclusive
        ? passRate >= minAcc && passRate <= maxAcc
        : passRate > minAcc && passRate < maxAcc;
  }

  void check(Checks c, String path) {
    c.atLeast(Checks.join(path, "rollouts"), rollouts, 1);
    c.unitClosed(Checks.join(path, "minAcc"), minAcc);
    c.unitClosed(Checks.join(path, "maxAcc"), maxAcc);
    if (minAcc >= 0 && minAcc <= 1 && maxAcc >= 0 && maxAcc <= 1) {
      String maxKey = Checks.join(path, "maxAcc");
      if (minAcc > maxAcc) {
        c.notAllowed(
            Checks.join(path, "minAcc"),
            minAcc,
            "must be <= " + maxKey + " (" + Checks.show(maxAcc) + ")");
      } else if (!inclusive && minAcc == maxAcc) {
        // With strict bounds an empty interval would silently drop every prompt.
        c.notAllowed(
            Checks.join(path, "minAcc"),
            minAcc,
            "must be < " + maxKey + " (" + Checks.show(maxAcc) + ") when inclusive is false");
      }
    }
  }
}
