package io.perlspark.model.learn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradClipTest {
  @Test
  void scalesToMaxNormLikePyTorch() {
    float[] g = {3f, 4f, 0f};
    assertEquals(5.0, GradClip.clipByGlobalNorm(g, 1.0), 0.0);
    // torch.nn.utils.clip_grad_norm_ on [3, 4, 0] with max_norm 1: [0.59999988, 0.79999984, 0]
    assertArrayEquals(new float[] {0.599999880000024f, 0.799999840000032f, 0f}, g, 1e-8f);
  }

  @Test
  void leavesSmallGradientsAlone() {
    float[] g = {0.3f, -0.4f};
    assertEquals(0.5, GradClip.clipByGlobalNorm(g, 1.0), 1e-7);
    assertArrayEquals(new float[] {0.3f, -0.4f}, g);
    assertEquals(0.5, GradClip.clipByGlobalNorm(g, Double.POSITIVE_INFINITY), 1e-7);
  }

  @Test
  void normIsAccumulatedInDouble() {
    float[] g = new float[1_000_000];
    java.util.Arrays.fill(g, 1e-3f);
    assertEquals(Math.sqrt(1e6) * 1e-3f, GradClip.globalNorm(g), 1e-9);
  }

  @Test
  void nonFiniteNormIsReportedAndGradientUntouched() {
    float[] g = {1f, Float.POSITIVE_INFINITY};
    assertTrue(Double.isInfinite(GradClip.clipByGlobalNorm(g, 1.0)));
    assertEquals(1f, g[0]);
    float[] h = {Float.NaN, 1f};
    assertTrue(Double.isNaN(GradClip.clipByGlobalNorm(h, 1.0)));
    assertEquals(1f, h[1]);
    assertThrows(IllegalArgumentException.class, () -> GradClip.clipByGlobalNorm(g, 0));
  }
}
