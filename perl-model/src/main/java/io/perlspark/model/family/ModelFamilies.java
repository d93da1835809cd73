package io.perlspark.model.family;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.builtin.BuiltinFamily;
import io.perlspark.model.family.qwen25vl.Qwen25VlFamily;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model families this build knows, by {@code model.family} name. Adding a family is one entry
 * in {@link #REGISTERED} (its name must also be listed in {@link ModelConfig#FAMILIES}, which the
 * config validation accepts; a test checks both lists agree).
 */
public final class ModelFamilies {
  private ModelFamilies() {}

  private static final Map<String, ModelFamily> REGISTERED = byName(new BuiltinFamily(), new Qwen25VlFamily());

  /**
   * The family called {@code name}.
   *
   * @throws ConfigException on {@code model.family}, listing the families this build has
   */
  public static ModelFamily forName(String name) {
    ModelFamily family = name == null ? null : REGISTERED.get(name);
    if (family == null) {
      String known = String.join(" | ", REGISTERED.keySet());
      String why =
          ModelConfig.FAMILIES.contains(name)
              ? " is a valid family but this build does not include it"
              : " is not a known model family";
      throw new ConfigException(
          "model.family", (name == null ? "null" : "'" + name + "'") + why + "; known: " + known);
    }
    return family;
  }

  /** The registered family names, in registration order. */
  public static List<String> names() {
    return List.copyOf(REGISTERED.keySet());
  }

  /**
   * The recipe for a run's model config: its family's checks, then its recipe.
   *
   * @throws ConfigException listing every problem, each naming its key
   */
  public static ModelRecipe recipe(ModelConfig config, RecipeContext context) {
    ModelFamily family = forName(config.family());
    List<ConfigException.Problem> problems = family.validate(config);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return family.recipe(config, context);
  }

  /** As {@link #recipe(ModelConfig, RecipeContext)} with default Hadoop settings. */
  public static ModelRecipe recipe(ModelConfig config, long initSeed) {
    return recipe(config, RecipeContext.builder().optInitSeed(initSeed).build());
  }

  private static Map<String, ModelFamily> byName(ModelFamily... families) {
    Map<String, ModelFamily> out = new LinkedHashMap<>();
    for (ModelFamily f : families) {
      if (out.put(f.name(), f) != null) {
        throw new IllegalStateException("two model families are called " + f.name());
      }
    }
    return Collections.unmodifiableMap(out);
  }
}
