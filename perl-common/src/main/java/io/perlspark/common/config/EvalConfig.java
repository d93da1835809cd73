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
 */
public record EvalConfig(
    List<DataSource> splits, boolean greedy, int permutationsPerSample, Integer maxSamples)
    implements Serializable {

  public EvalConfig {
    splits = splits == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(splits));
  }

  public static EvalConfig defaults() {
    return new EvalConfig(List.of(), true, 6, null);
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
  }
}
