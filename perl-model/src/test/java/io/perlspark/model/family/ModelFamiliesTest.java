package io.perlspark.model.family;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.builtin.BuiltinFamily;
import org.junit.jupiter.api.Test;

class ModelFamiliesTest {

  @Test
  void builtinIsRegisteredUnderItsConfigName() {
    assertInstanceOf(BuiltinFamily.class, ModelFamilies.forName(ModelConfig.BUILTIN));
    assertEquals(ModelConfig.BUILTIN, ModelFamilies.forName("builtin").name());
  }

  @Test
  void everyRegisteredFamilyIsOneTheConfigAccepts() {
    assertFalse(ModelFamilies.names().isEmpty());
    for (String name : ModelFamilies.names()) {
      assertTrue(ModelConfig.FAMILIES.contains(name),
          name + " is registered but model.family cannot name it; add it to ModelConfig.FAMILIES");
      assertEquals(name, ModelFamilies.forName(name).name());
    }
  }

  @Test
  void anUnknownFamilyIsAConfigErrorListingTheKnownOnes() {
    ConfigException e = assertThrows(ConfigException.class, () -> ModelFamilies.forName("llava"));
    assertEquals("model.family", e.key());
    assertTrue(e.getMessage().contains("'llava' is not a known model family"), e.getMessage());
    assertTrue(e.getMessage().contains("known: " + String.join(" | ", ModelFamilies.names())),
        e.getMessage());
  }

  @Test
  void aConfigFamilyNotInThisBuildSaysSo() {
    // Holds for every family the config accepts before its implementation is registered.
    for (String name : ModelConfig.FAMILIES) {
      if (ModelFamilies.names().contains(name)) {
        continue;
      }
      ConfigException e = assertThrows(ConfigException.class, () -> ModelFamilies.forName(name));
      assertEquals("model.family", e.key());
      assertTrue(e.getMessage().contains("this build does not include it"), e.getMessage());
    }
  }

  @Test
  void theRecipeContextCarriesTheSeedAndTheHadoopSettings() {
    RecipeContext plain = RecipeContext.builder().build();
    assertEquals(0, plain.initSeed());
    assertTrue(plain.hadoopConfiguration() != null);
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration(false);
    conf.set("fs.s3a.endpoint", "http://minio:9000");
    RecipeContext c = RecipeContext.builder().optInitSeed(42).optHadoopConfiguration(conf).build();
    assertEquals(42, c.initSeed());
    assertEquals("http://minio:9000", c.hadoopConfiguration().get("fs.s3a.endpoint"));
    // The seed reaches the recipe: equal seeds give equal recipes, others differ.
    ModelConfig defaults = io.perlspark.common.config.PerlConfig.defaults().model();
    assertEquals(ModelFamilies.recipe(defaults, 42), ModelFamilies.recipe(defaults, c));
    assertFalse(ModelFamilies.recipe(defaults, 41).equals(ModelFamilies.recipe(defaults, c)));
  }

  @Test
  void countsPlaceholders() {
    assertEquals(0, PromptProcessor.countPlaceholders("no images"));
    assertEquals(3, PromptProcessor.countPlaceholders("<image><image> a <image>"));
  }
}
