package io.perlspark.common.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Evaluation.
 *
 * @param splits evaluation datasets; may be empty
 * @param greedy greedy decoding (true) or sampling with the rollout settings
 * @param permutationsPerSample image orders scored per multi-image sample, for permutation
 *     consistency, >= 1
 * @param maxSamples optional cap on samples per split; null = all
 * @param samplesPerCall samples per generate call on an executor (each with its image orders, so
 *     up to {@code permutationsPerSample} sequences per sample); greedy decoding makes a sample's
 *     answer independent of its batch, so this changes speed and memory, not the report
 */
public record EvalConfig(
    List<DataSource> splits, boolean greedy, int permutationsPerSample, Integer maxSamples,
    int samplesPerCall)
    implements Serializable {

  /** The evaluator's calls as before the key existed. */
  public static final int DEFAULT_SAMPLES_PER_CALL = 64;

  public EvalConfig {
    splits = splits == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(splits));
  }

  public static EvalConfig defaults() {
    return new EvalConfig(List.of(), true, 6, null, DEFAULT_SAMPLES_PER_CALL);
  }

  void check(Checks c, String path) {
    for (int i = 0; i < splits.size(); i++) {
      String key = Checks.join(path, "splits") + "[" + i + "]";
      if (splits.get(i) == null) {
        c.add(key, "missing; a data source {path: ...} is required");
      } else {
        splits.get(i).check(c, key);
      }
    }
    c.atLeast(Checks.join(path, "permutationsPerSample"), permutationsPerSample, 1);
    if (maxSamples != null && maxSamples < 1) {
      c.notAllowed(Checks.join(path, "maxSamples"), maxSamples, "must be >= 1, or null for all");
    }
    c.atLeast(Checks.join(path, "samplesPerCall"), samplesPerCall, 1);
  }
}
