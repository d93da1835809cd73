package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ModelSpecTest {
  @Test
  void calibrationSizes() {
    ModelSpec spec = ModelSpec.calibration(40);
    assertEquals(9, spec.patchesPerImage());
    assertEquals(192, spec.patchDim());
    assertEquals(16, spec.headDim());
    assertEquals(256, spec.ffnDim());
    assertEquals(3 * 24 * 24, spec.pixelsPerImage());
  }

  @Test
  void invalidSpecsListEveryProblem() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ModelSpec(40, 24, 7, 3, 64, 2, 5, 4, 80));
    assertTrue(e.getMessage().contains("patchSize=7 must divide imageSize=24"), e.getMessage());
    assertTrue(e.getMessage().contains("heads=5 must divide dModel=64"), e.getMessage());
    IllegalArgumentException negative =
        assertThrows(
            IllegalArgumentException.class, () -> new ModelSpec(40, 24, 8, 3, 0, 2, 4, 4, 80));
    assertTrue(negative.getMessage().contains("dModel=0 must be > 0"), negative.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new ModelSpec(4, 24, 8, 3, 64, 2, 4, 4, 80));
  }
}
