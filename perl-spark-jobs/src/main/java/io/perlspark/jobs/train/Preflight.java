package io.perlspark.jobs.train;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.model.family.ModelFamilies;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Checks a run before any Spark work: settings with which it cannot learn ({@link
 * PerlConfig#learningProblems()}); every stage's data, the eval splits, model.init and model.path
 * must exist, the model family must be able to build its recipe and this JVM's engine must be
 * able to run it (model.dtype, model.tf32). Problems are reported
 * together, each naming its key.
 */
public final class Preflight {
  private Preflight() {}

  /**
   * {@code perl sft}'s check: the model's recipe can be made and, without LoRA, the model is
   * within {@code model.maxFullFineTuneParams}.
   *
   * @throws ConfigException naming the key
   */
  public static void forFineTuning(PerlConfig cfg) {
    var recipe = ModelFamilies.recipe(cfg.model(), cfg.run().seed());
    List<ConfigException.Problem> problems = new ArrayList<>(fullFineTuneProblems(cfg.model(), recipe));
    problems.addAll(engineProblems(cfg.model(), recipe));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  /**
   * A full fine-tune of a model above {@code model.maxFullFineTuneParams}: the driver would hold
   * weights, gradients and AdamW's moments of every parameter as float[].
   */
  static List<ConfigException.Problem> fullFineTuneProblems(
      io.perlspark.common.config.ModelConfig model, io.perlspark.model.family.ModelRecipe recipe) {
    long params = recipe.baseParameterCount();
    long max = model.maxFullFineTuneParams();
    if (recipe.trainsLora() || params <= max) {
      return List.of();
    }
    return List.of(new ConfigException.Problem("model.maxFullFineTuneParams", "the model has "
        + params + " parameters, more than " + max + " that a full fine-tune may train on the"
        + " driver; train LoRA adapters instead (model.lora.enabled: true) or raise"
        + " model.maxFullFineTuneParams"));
  }

  /**
   * What this JVM's engine cannot do of the model config ({@code model.dtype: bfloat16} on a JNI
   * without bf16, {@code model.tf32} without libtorch's switch): found here, before Spark starts.
   */
  static List<ConfigException.Problem> engineProblems(
      io.perlspark.common.config.ModelConfig model, io.perlspark.model.family.ModelRecipe recipe) {
    List<ConfigException.Problem> problems = new ArrayList<>();
    try {
      io.perlspark.model.policy.Tf32.require(model.tf32(), System.getenv());
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    try {
      recipe.checkEngine();
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    return problems;
  }

  public static void forTraining(PerlConfig cfg) {
    List<StageConfig> stages = cfg.requireStages();
    Configuration conf = new Configuration();
    List<ConfigException.Problem> problems = new ArrayList<>(cfg.learningProblems());
    for (String p : StageData.missing(stages, conf)) {
      problems.add(new ConfigException.Problem(p.substring(0, p.indexOf(':')), p.substring(p.indexOf(':') + 2)));
    }
    for (int i = 0; i < cfg.eval().splits().size(); i++) {
      String path = cfg.eval().splits().get(i).path();
      if (io.perlspark.jobs.data.DataPaths.resolve(path, conf) == null) {
        problems.add(new ConfigException.Problem("eval.splits[" + i + "].path", path + " does not exist"));
      }
    }
    String init = cfg.model().init();
    if (init != null && !init.isBlank()) {
      try {
        Path p = new Path(init);
        if (!p.getFileSystem(conf).exists(p)) {
          problems.add(new ConfigException.Problem("model.init", init + " does not exist"));
        }
      } catch (java.io.IOException e) {
        problems.add(new ConfigException.Problem("model.init", init + ": " + e.getMessage()));
      }
    }
    String modelPath = cfg.model().path();
    if (modelPath != null) {
      try {
        Path p = new Path(modelPath);
        org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
          problems.add(new ConfigException.Problem("model.path", modelPath + " does not exist"));
        } else if (!fs.getFileStatus(p).isDirectory()) {
          problems.add(new ConfigException.Problem("model.path", modelPath + " is a file; give the model's folder"));
        }
      } catch (java.io.IOException | IllegalArgumentException e) {
        problems.add(new ConfigException.Problem("model.path", modelPath + ": " + e.getMessage()));
      }
    }
    if (problems.stream().noneMatch(p -> p.key().startsWith("model."))) {
      try {
        // the family's own checks and files
        var recipe = ModelFamilies.recipe(cfg.model(), cfg.run().seed());
        problems.addAll(fullFineTuneProblems(cfg.model(), recipe));
        problems.addAll(engineProblems(cfg.model(), recipe));
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }
}
