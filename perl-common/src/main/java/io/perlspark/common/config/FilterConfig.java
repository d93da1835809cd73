package io.perlspark.common.config;

import java.io.Serializable;

/**
 * Rollout filtering (docs/ARCHITECTURE.md "The method"): offline by difficulty before RL, online by group variance
 * during RL.
 */
public record FilterConfig(OnlineFilterConfig online, OfflineFilterConfig offline)
    implements Serializable {

  public static FilterConfig defaults() {
    return new FilterConfig(OnlineFilterConfig.defaults(), OfflineFilterConfig.defaults());
  }

  void check(Checks c, String path) {
    if (online == null) {
      c.add(Checks.join(path, "online"), "missing; a section is required");
    } else {
      online.check(c, Checks.join(path, "online"));
    }
    if (offline == null) {
      c.add(Checks.join(path, "offline"), "missing; a section is required");
    } else {
      offline.check(c, Checks.join(path, "offline"));
    }
  }
}
