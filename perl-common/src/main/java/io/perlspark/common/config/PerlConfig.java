package io.perlspark.common.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole typed run configuration. Load it with {@link ConfigLoader}; a loaded config has been
 * validated.
 *
 * <p>A config may have no stages (eval and data commands need none); training calls {@link
 * #requireStages()}.
 */
public record PerlConfig(
    RunConfig run,
    ModelConfig model,
    RolloutConfig rollout,
    AlgorithmConfig algorithm,
    TrainerConfig trainer,
    RewardConfig reward,
    FilterConfig filter,
    PermutationConfig permutation,
    List<StageConfig> stages,
    EvalConfig eval)
    implements Serializable {

  public PerlConfig {
    stages = stages == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(stages));
  }

  /** Built-in defaults: the paper's reference settings, no stages, no eval splits. */
  public static PerlConfig defaults() {
    return new PerlConfig(
        RunConfig.defaults(),
        ModelConfig.defaults(),
        RolloutConfig.defaults(),
        AlgorithmConfig.defaults(),
        TrainerConfig.defaults(),
        RewardConfig.defaults(),
        FilterConfig.defaults(),
        PermutationConfig.defaults(),
        List.of(),
        EvalConfig.defaults());
  }

  /** A copy with other stages. */
  public PerlConfig withStages(List<StageConfig> newStages) {
    return new PerlConfig(
        run, model, rollout, algorithm, trainer, reward, filter, permutation, newStages, eval);
  }

  /** The stages, or a ConfigException naming "stages" when there are none (training needs one). */
  public List<StageConfig> requireStages() {
    if (stages.isEmpty()) {
      throw new ConfigException(
          "stages",
          "at least one training stage is required, e.g. stages: [{name: perl, steps: 100,"
              + " data: [{path: data/synth/train}]}]");
    }
    return stages;
  }

  /** The stage with this name, or a ConfigException listing the stage names. */
  public StageConfig stage(String name) {
    for (StageConfig s : stages) {
      if (s.name() != null && s.name().equals(name)) {
        return s;
      }
    }
    List<String> names = new ArrayList<>();
    stages.forEach(s -> names.add(s.name()));
    throw new ConfigException("stages", "no stage named '" + name + "'; stages are " + names);
  }

  /** Every problem of this config (empty when valid). */
  public List<ConfigException.Problem> problems() {
    Checks c = new Checks();
    checkSection(c, "run", run, () -> run.check(c, "run"));
    checkSection(c, "model", model, () -> model.check(c, "model"));
    checkSection(c, "rollout", rollout, () -> rollout.check(c, "rollout"));
    checkSection(c, "algorithm", algorithm, () -> algorithm.check(c, "algorithm"));
    checkSection(c, "trainer", trainer, () -> trainer.check(c, "trainer"));
    checkSection(c, "reward", reward, () -> reward.check(c, "reward"));
    checkSection(c, "filter", filter, () -> filter.check(c, "filter"));
    checkSection(c, "permutation", permutation, () -> permutation.check(c, "permutation"));
    Map<String, Integer> firstByName = new HashMap<>();
    for (int i = 0; i < stages.size(); i++) {
      StageConfig s = stages.get(i);
      String key = "stages[" + i + "]";
      if (s == null) {
        c.add(key, "missing; a stage is required");
        continue;
      }
      s.check(c, key);
      if (s.name() != null && !s.name().isBlank()) {
        Integer first = firstByName.putIfAbsent(s.name(), i);
        if (first != null) {
          c.notAllowed(key + ".name", s.name(), "duplicates stages[" + first + "].name");
        }
      }
    }
    checkSection(c, "eval", eval, () -> eval.check(c, "eval"));
    return c.problems();
  }

  /** Throws a ConfigException listing every problem, or returns this config when valid. */
  public PerlConfig validate() {
    List<ConfigException.Problem> problems = problems();
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return this;
  }

  private static void checkSection(Checks c, String key, Object section, Runnable check) {
    if (section == null) {
      c.add(key, "missing; a section is required");
    } else {
      check.run();
    }
  }
}
