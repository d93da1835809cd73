package io.perlspark.model.family;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import java.util.List;

/**
 * A kind of policy model (the built-in TinyVlm, Qwen2.5-VL, ...): given a run's {@code model}
 * config, it checks the family's own requirements and makes the {@link ModelRecipe} that builds
 * the model, its tokenizer and its {@link PromptProcessor}. Families are registered in {@link
 * ModelFamilies}; callers outside perl-model never name a family's classes.
 */
public interface ModelFamily {

  /** The value of {@code model.family} that selects this family. */
  String name();

  /**
   * The family's own checks of a model config that already passed the generic config validation
   * (e.g. files it needs exist and are readable), each problem naming its key ({@code
   * model.tokenizer}, {@code model.path}, ...). Empty when the config is usable.
   */
  default List<ConfigException.Problem> validate(ModelConfig config) {
    return List.of();
  }

  /**
   * The recipe of a run's model. Runs on the driver and may read small files (a tokenizer, a
   * config.json) so that executors need not; a family whose weights stay in {@code model.path}
   * puts a {@link io.perlspark.model.checkpoint.RemoteFolder} (URI + the context's Hadoop settings)
   * into its recipe and reads it on the executor.
   *
   * @param context the seed of fresh parameters and the Hadoop settings for model files
   * @throws ConfigException when the config cannot be used, naming the key
   */
  ModelRecipe recipe(ModelConfig config, RecipeContext context);
}
