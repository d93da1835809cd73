package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** model.lora and model.maxFullFineTuneParams: defaults, overrides, and each refusal's key. */
class LoraSettingsConfigTest {
  private static final String QWEN = "model.family=qwen2_5_vl";
  private static final String PATH = "model.path=/models/qwen";

  private static ConfigException fails(String... overrides) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(overrides)));
  }

  @Test
  void defaultsAreOffWithPeftsUsualTargets() {
    ModelConfig m = PerlConfig.defaults().model();
    assertFalse(m.loraEnabled());
    assertEquals(8, m.lora().rank());
    assertEquals(16.0, m.lora().alpha());
    assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
        "down_proj"), m.lora().targetList());
    assertFalse(m.lora().vision());
    assertFalse(m.lora().rslora());
    assertEquals(500_000_000L, m.maxFullFineTuneParams());
  }

  @Test
  void overridesReachTheSection() {
    ModelConfig m = ConfigLoader.load(null, List.of(QWEN, PATH, "model.lora.enabled=true",
        "model.lora.rank=4", "model.lora.alpha=8", "model.lora.targets= q_proj , v_proj",
        "model.lora.rslora=true", "model.lora.vision=true")).model();
    assertTrue(m.loraEnabled());
    assertEquals(4, m.lora().rank());
    assertEquals(8.0, m.lora().alpha());
    assertEquals(List.of("q_proj", "v_proj"), m.lora().targetList());
    assertTrue(m.lora().rslora());
    assertTrue(m.lora().vision());
  }

  @Test
  void badValuesNameTheirKeys() {
    assertEquals(List.of("model.lora.rank"), fails(QWEN, PATH, "model.lora.rank=0").keys());
    assertEquals(List.of("model.lora.alpha"), fails(QWEN, PATH, "model.lora.alpha=0").keys());
    assertEquals(List.of("model.lora.targets"), fails(QWEN, PATH, "model.lora.targets= , ").keys());
    assertEquals(List.of("model.lora.targets"),
        fails(QWEN, PATH, "model.lora.targets=q_proj,.*proj").keys());
    assertEquals(List.of("model.maxFullFineTuneParams"),
        fails(QWEN, PATH, "model.maxFullFineTuneParams=0").keys());
  }

  @Test
  void loraOnTheBuiltinModelIsRefused() {
    ConfigException e = fails("model.lora.enabled=true");
    assertEquals(List.of("model.lora.enabled"), e.keys());
    assertTrue(e.getMessage().contains("trains in full"), e.getMessage());
  }
}
