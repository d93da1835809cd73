package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;

/**
 * Reward = accuracyWeight * accuracy + formatWeight * format.
 *
 * @param accuracyWeight weight of answer correctness, >= 0
 * @param formatWeight weight of the response format, >= 0 (the two must not both be 0)
 * @param format {@code think-boxed} ({@code <think>…</think>} then {@code \boxed{…}}) or {@code
 *     answer-tag} ({@code <answer>…</answer>})
 */
public record RewardConfig(double accuracyWeight, double formatWeight, String format)
    implements Serializable {

  public static final List<String> FORMATS = Checks.list("think-boxed", "answer-tag");

  public static RewardConfig defaults() {
    return new RewardConfig(0.9, 0.1, "think-boxed");
  }

  void check(Checks c, String path) {
    c.nonNegative(Checks.join(path, "accuracyWeight"), accuracyWeight);
    c.nonNegative(Checks.join(path, "formatWeight"), formatWeight);
    if (accuracyWeight >= 0 && formatWeight >= 0 && !(accuracyWeight + formatWeight > 0)) {
      c.add(path, "accuracyWeight + formatWeight is 0; at least one weight must be > 0");
    }
    c.oneOf(Checks.join(path, "format"), format, FORMATS);
  }
}
