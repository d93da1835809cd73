package io.perlspark.common.config;

import java.io.Serializable;

/**
 * Sampling of responses.
 *
 * @param n responses per prompt (per prompt copy when permuting)
 * @param temperature sampling temperature, > 0
 * @param topP nucleus sampling mass in (0, 1]; 1 = off
 * @param maxNewTokens longest response
 * @param maxPromptTokens longest prompt (image tokens included); longer prompts are rejected
 */
public record RolloutConfig(
    int n, double temperature, double topP, int maxNewTokens, int maxPromptTokens)
    implements Serializable {

  public static RolloutConfig defaults() {
    return new RolloutConfig(6, 1.0, 1.0, 48, 96);
  }

  void check(Checks c, String path) {
    c.atLeast(Checks.join(path, "n"), n, 1);
    c.positive(Checks.join(path, "temperature"), temperature);
    if (!(topP > 0 && topP <= 1)) {
      c.notAllowed(Checks.join(path, "topP"), topP, "must be in (0, 1]");
    }
    c.atLeast(Checks.join(path, "maxNewTokens"), maxNewTokens, 1);
    c.atLeast(Checks.join(path, "maxPromptTokens"), maxPromptTokens, 1);
  }
}
