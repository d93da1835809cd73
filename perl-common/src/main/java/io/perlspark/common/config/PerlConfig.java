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

  /**
   * Settings with which a training run cannot learn, each naming its key (checked by {@code perl
   * train} before any Spark work, on a config that {@link #validate() validates}):
   *
   * <ul>
   *   <li>{@code rollout.n: 1} in a stage that never permutes: every GRPO group holds one response,
   *       so every advantage is 0;
   *   <li>permutation enabled with a slot list of one slot: it can never permute any sample.
   * </ul>
   *
   * Problems that depend on the data (no sample with two images) are warned about when the stage
   * starts, with counts.
   */
  public List<ConfigException.Problem> learningProblems() {
    Checks c = new Checks();
    for (int i = 0; i < stages.size(); i++) {
      StageConfig s = stages.get(i);
      if (s == null) {
        continue;
      }
      String stage = "stages[" + i + "]";
      PermutationConfig perm = s.effectivePermutation(this);
      String permKey = s.permutation() != null ? stage + ".permutation" : "permutation";
      String never = perm.neverPermutesBecause();
      if (perm.enabled() && perm.copies() > 0 && never != null && never.contains("slots")) {
        c.notAllowed(permKey + ".slots", perm.slots(), "names one slot, so no sample can ever be permuted (stage '"
            + s.name() + "'); a permutation needs at least two slots, e.g. list:1,2 or all");
      }
      RolloutConfig rollout = s.effectiveRollout(this);
      if (rollout.n() == 1 && never != null) {
        String rolloutKey = s.rollout() != null ? stage + ".rollout" : "rollout";
        c.notAllowed(rolloutKey + ".n", 1, "with " + never + " (stage '" + s.name() + "') every GRPO group holds one"
            + " response, so every advantage is 0 and nothing is learned; use n >= 2, or permuted copies");
      }
    }
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
