package io.perlspark.common.reward;

import io.perlspark.common.data.Sample;
import java.io.Serializable;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A weighted sum of named reward functions: {@code total = Σ weight·component.total}. The result's
 * components map holds each component's raw (unweighted) value under its name, in list order; the
 * extracted answer is the first one any component reports.
 */
public record WeightedReward(List<Component> parts) implements RewardFunction {

  /** One named, weighted term. */
  public record Component(String name, double weight, RewardFunction function) implements Serializable {
    public Component {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("reward component name must not be blank");
      }
      if (!Double.isFinite(weight)) {
        throw new IllegalArgumentException("weight of reward component '" + name
            + "' must be finite, got " + weight);
      }
      Objects.requireNonNull(function, "function of reward component '" + name + "'");
    }
  }

  public WeightedReward {
    Objects.requireNonNull(parts, "parts");
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("a weighted reward needs at least one component");
    }
    Set<String> seen = new HashSet<>();
    for (Component c : parts) {
      if (!seen.add(c.name())) {
        throw new IllegalArgumentException("duplicate reward component name '" + c.name() + "'");
      }
    }
    parts = List.copyOf(parts);
  }

  @Override
  public RewardResult score(String response, Sample sample) {
    double total = 0.0;
    String extracted = null;
    Map<String, Double> components = new LinkedHashMap<>();
    for (Component c : parts) {
      RewardResult r = c.function().score(response, sample);
      components.put(c.name(), r.total());
      total += c.weight() * r.total();
      if (extracted == null) {
        extracted = r.extractedAnswer();
      }
    }
    return new RewardResult(total, components, extracted);
  }

  /** Sum of the weights (1 for the standard reward). */
  public double weightSum() {
    double s = 0.0;
    for (Component c : parts) {
      s += c.weight();
    }
    return s;
  }
}
