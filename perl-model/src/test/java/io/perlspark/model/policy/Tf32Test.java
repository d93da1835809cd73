package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Tf32Test {
  @Test
  void tf32NeedsLibtorchsEnvironmentSwitch() {
    ConfigException e = assertThrows(ConfigException.class, () -> Tf32.require(true, Map.of()));
    assertEquals(List.of("model.tf32"), e.keys());
    assertTrue(e.getMessage().contains("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1"), e.getMessage());
    assertTrue(e.getMessage().contains("spark.executorEnv.TORCH_ALLOW_TF32_CUBLAS_OVERRIDE"));
    assertThrows(ConfigException.class, () -> Tf32.require(true, Map.of(Tf32.ENV, "0")));
    assertThrows(ConfigException.class, () -> Tf32.require(true, Map.of(Tf32.ENV, "yes")));
    assertDoesNotThrow(() -> Tf32.require(true, Map.of(Tf32.ENV, "1")));
  }

  @Test
  void withoutTf32NothingIsRequired() {
    assertDoesNotThrow(() -> Tf32.require(false, Map.of()));
    assertTrue(Tf32.enabledByEnvironment(Map.of(Tf32.ENV, "1")));
    assertFalse(Tf32.enabledByEnvironment(Map.of()));
  }
}
