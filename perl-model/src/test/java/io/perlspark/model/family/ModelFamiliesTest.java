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
  void countsPlaceholders() {
    assertEquals(0, PromptProcessor.countPlaceholders("no images"));
    assertEquals(3, PromptProcessor.countPlaceholders("<image><image> a <image>"));
  }
}
