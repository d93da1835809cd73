package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;

/**
 * Online (DAPO dynamic-sampling) filter: drop groups whose metric has zero variance, and optionally
 * groups whose mean metric is outside [minGroupAcc, maxGroupAcc]; refill the batch from more
 * prompts.
 *
 * @param enabled whether to filter at all
 * @param metric what the group statistics are computed on: {@code accuracy} or {@code reward}
 * @param minGroupAcc optional lower bound on a group's mean metric, in [0, 1]
 * @param maxGroupAcc optional upper bound on a group's mean metric, in [0, 1]
 * @param maxFillAttempts generation rounds per step, the first included, >= 1
 */
public record OnlineFilterConfig(
    boolean enabled, String metric, Double minGroupAcc, Double maxGroupAcc, int maxFillAttempts)
    implements Serializable {

  public static final List<String> METRICS = Checks.list("accuracy", "reward");

  public static OnlineFilterConfig defaults() {
    return new OnlineFilterConfig(true, "accuracy", null, null, 3);
  }

  void check(Checks c, String path) {
    c.oneOf(Checks.join(path, "metric"), metric, METRICS);
    boolean boundsOk = true;
    if (minGroupAcc != null && !(minGroupAcc >= 0 && minGroupAcc <= 1)) {
      c.notAllowed(Checks.join(path, "minGroupAcc"), minGroupAcc, "must be in [0, 1], or null");
      boundsOk = false;
    }
    if (maxGroupAcc != null && !(maxGroupAcc >= 0 && maxGroupAcc <= 1)) {
      c.notAllowed(Checks.join(path, "maxGroupAcc"), maxGroupAcc, "must be in [0, 1], or null");
      boundsOk = false;
    }
    if (boundsOk && minGroupAcc != null && maxGroupAcc != null && minGroupAcc > maxGroupAcc) {
      c.notAllowed(
          Checks.join(path, "minGroupAcc"),
          minGroupAcc,
          "must be <= " + Checks.join(path, "maxGroupAcc") + " (" + Checks.show(maxGroupAcc) + ")");
    }
    c.atLeast(Checks.join(path, "maxFillAttempts"), maxFillAttempts, 1);
  }
}
