package io.perlspark.common.reward;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The reward of one response.
 *
 * @param total the scalar reward used for advantages
 * @param components named raw component values (e.g. {@code accuracy}, {@code format}), in the
 *     order the reward function defines them, for metrics and filtering
 * @param extractedAnswer the answer the response gave, or {@code null} when none could be extracted
 */
public record RewardResult(double total, Map<String, Double> components, String extractedAnswer)
    implements Serializable {

  public static final String ACCURACY = "accuracy";
  public static final String FORMAT = "format";

  public RewardResult {
    if (!Double.isFinite(total)) {
      throw new IllegalArgumentException("reward total must be finite, got " + total);
    }
    Objects.requireNonNull(components, "components");
    LinkedHashMap<String, Double> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Double> e : components.entrySet()) {
      Double v = e.getValue();
      if (e.getKey() == null || v == null || !Double.isFinite(v)) {
        throw new IllegalArgumentException(
            "reward component '" + e.getKey() + "' must be named and finite, got " + v);
      }
      copy.put(e.getKey(), v);
    }
    // Map.copyOf would lose the order; metrics print components in the function's order.
    components = Collections.unmodifiableMap(copy);
  }

  /** A result with only a total (no named components). */
  public static RewardResult of(double total, String extractedAnswer) {
    return new RewardResult(total, Map.of(), extractedAnswer);
  }

  /** A named component, or 0 when this result does not have it. */
  public double component(String name) {
    Double v = components.get(name);
    return v == null ? 0.0 : v;
  }

  /** The accuracy component (0 or 1 for the built-in rewards), 0 when absent. */
  public double accuracy() {
    return component(ACCURACY);
  }

  /** The format component (0 or 1 for the built-in rewards), 0 when absent. */
  public double format() {
    return component(FORMAT);
  }

  public boolean hasExtractedAnswer() {
    return extractedAnswer != null;
  }
}
