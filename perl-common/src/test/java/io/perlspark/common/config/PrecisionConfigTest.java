package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code model.dtype} and {@code model.tf32}: values, and the combinations that are refused. */
class PrecisionConfigTest {
  private static final String QWEN = "model.family=qwen2_5_vl";
  private static final String PATH = "model.path=models/qwen";
  private static final String LORA = "model.lora.enabled=true";

  private static ConfigException fails(String... overrides) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(overrides)));
  }

  private static ModelConfig load(String... overrides) {
    return ConfigLoader.load(null, List.of(overrides)).model();
  }

  @Test
  void defaultsAreFloat32WithoutTf32() {
    ModelConfig d = ModelConfig.defaults();
    assertEquals("float32", d.dtype());
    assertFalse(d.tf32());
  }

  @Test
  void halfPrecisionLoadsForALoraRunOfAHubModel() {
    assertEquals("bfloat16", load(QWEN, PATH, LORA, "model.dtype=bfloat16").dtype());
    assertEquals("float16", load(QWEN, PATH, LORA, "model.dtype=float16").dtype());
    assertTrue(load(QWEN, PATH, "model.tf32=true").tf32());
  }

  @Test
  void anUnknownDtypeNamesTheKeyAndTheValues() {
    ConfigException e = fails(QWEN, PATH, LORA, "model.dtype=fp8");
    assertEquals(List.of("model.dtype"), e.keys());
    assertEquals("model.dtype: 'fp8' is not allowed; must be one of float32 | bfloat16 | float16",
        e.getMessage());
    assertEquals(List.of("model.dtype"), fails(QWEN, PATH, LORA, "model.dtype=bf16").keys());
  }

  @Test
  void halfPrecisionFullFineTuningIsRefusedPointingToLora() {
    for (String dtype : List.of("bfloat16", "float16")) {
      ConfigException e = fails(QWEN, PATH, "model.dtype=" + dtype);
      assertEquals(List.of("model.dtype"), e.keys());
      assertTrue(e.getMessage().contains("full fine-tuning runs in float32 only"), e.getMessage());
      assertTrue(e.getMessage().contains("model.lora.enabled: true"), e.getMessage());
    }
  }

  @Test
  void theBuiltInModelStaysFloat32() {
    ConfigException e = fails("model.dtype=float16");
    assertEquals(List.of("model.dtype"), e.keys());
    assertTrue(e.getMessage().contains("built-in model runs in float32"), e.getMessage());
  }

  @Test
  void tf32IsOnlyForFloat32() {
    ConfigException e = fails(QWEN, PATH, LORA, "model.dtype=bfloat16", "model.tf32=true");
    assertEquals(List.of("model.tf32"), e.keys());
    assertTrue(e.getMessage().contains("model.dtype is bfloat16"), e.getMessage());
  }
}
