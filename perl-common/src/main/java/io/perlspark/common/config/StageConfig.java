package io.perlspark.common.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One training stage: its length, its data mix and, optionally, its own permutation, filter and
 * rollout sections.
 *
 * <p>A stage section that is null means "use the top-level section". When a config file gives a
 * stage section with only some keys, the loader fills the rest from the top-level section, so that
 * {@code permutation: {enabled: false}} in a stage changes only that key.
 *
 * @param name unique, non-blank stage name
 * @param steps length in optimiser steps; exactly one of steps and epochs is set
 * @param epochs length in passes over the stage's data (may be fractional)
 * @param data the stage's data mix, non-empty
 * @param permutation this stage's permutation settings, or null for the top-level ones
 * @param filter this stage's filter settings, or null for the top-level ones
 * @param rollout this stage's rollout settings, or null for the top-level ones
 */
public record StageConfig(
    String name,
    Integer steps,
    Double epochs,
    List<DataSource> data,
    PermutationConfig permutation,
    FilterConfig filter,
    RolloutConfig rollout)
    implements Serializable {

  /** The stage keys whose value, when given, is merged onto the top-level section of that name. */
  static final List<String> INHERITED_SECTIONS = List.of("permutation", "filter", "rollout");

  public StageConfig {
    data = data == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(data));
  }

  /** A stage of {@code steps} steps on {@code data}, using the top-level sections. */
  public static StageConfig ofSteps(String name, int steps, List<DataSource> data) {
    return new StageConfig(name, steps, null, data, null, null, null);
  }

  /** The values a list item starts from before the user's keys are merged onto it. */
  static StageConfig template() {
    return new StageConfig(null, null, null, List.of(), null, null, null);
  }

  public PermutationConfig effectivePermutation(PerlConfig root) {
    return permutation != null ? permutation : root.permutation();
  }

  public FilterConfig effectiveFilter(PerlConfig root) {
    return filter != null ? filter : root.filter();
  }

  public RolloutConfig effectiveRollout(PerlConfig root) {
    return rollout != null ? rollout : root.rollout();
  }

  void check(Checks c, String path) {
    c.notBlank(Checks.join(path, "name"), name);
    if (steps != null && epochs != null) {
      c.add(path, "set exactly one of steps or epochs (both are set)");
    } else if (steps == null && epochs == null) {
      c.add(path, "set exactly one of steps or epochs (neither is set)");
    }
    if (steps != null && steps < 1) {
      c.notAllowed(Checks.join(path, "steps"), steps, "must be >= 1");
    }
    if (epochs != null && !(Double.isFinite(epochs) && epochs > 0)) {
      c.notAllowed(Checks.join(path, "epochs"), epochs, "must be > 0");
    }
    if (data.isEmpty()) {
      c.add(Checks.join(path, "data"), "must list at least one data source, e.g. [{path: data/x}]");
    }
    for (int i = 0; i < data.size(); i++) {
      String key = Checks.join(path, "data") + "[" + i + "]";
      if (data.get(i) == null) {
        c.add(key, "missing; a data source {path: ...} is required");
      } else {
        data.get(i).check(c, key);
      }
    }
    if (permutation != null) {
      permutation.check(c, Checks.join(path, "permutation"));
    }
    if (filter != null) {
      filter.check(c, Checks.join(path, "filter"));
    }
    if (rollout != null) {
      rollout.check(c, Checks.join(path, "rollout"));
    }
  }
}
