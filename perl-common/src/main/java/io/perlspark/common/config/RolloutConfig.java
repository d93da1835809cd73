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
 * @param generationBatch most sequences (prompts x responses) per generate call on an executor:
 *     whole prompts, {@code max(1, generationBatch / n)} of them, and a prompt's n responses split
 *     only when n is larger. Each response has its own seed, so this changes speed and memory,
 *     not the responses
 * @param scoringBatch most sequences per scoring forward (the frozen reference's log-probs)
 */
public record RolloutConfig(
    int n, double temperature, double topP, int maxNewTokens, int maxPromptTokens,
    int generationBatch, int scoringBatch)
    implements Serializable {

  /** 128 = 16 prompts x the demo's 8 responses: the demo's calls as before the keys existed. */
  public static final int DEFAULT_BATCH = 128;

  public static RolloutConfig defaults() {
    return new RolloutConfig(6, 1.0, 1.0, 48, 96, DEFAULT_BATCH, DEFAULT_BATCH);
  }

  void check(Checks c, String path) {
    c.atLeast(Checks.join(path, "n"), n, 1);
    c.positive(Checks.join(path, "temperature"), temperature);
    if (!(topP > 0 && topP <= 1)) {
      c.notAllowed(Checks.join(path, "topP"), topP, "must be in (0, 1]");
    }
    c.atLeast(Checks.join(path, "maxNewTokens"), maxNewTokens, 1);
    c.atLeast(Checks.join(path, "maxPromptTokens"), maxPromptTokens, 1);
    c.atLeast(Checks.join(path, "generationBatch"), generationBatch, 1);
    c.atLeast(Checks.join(path, "scoringBatch"), scoringBatch, 1);
  }
}
