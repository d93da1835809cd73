package io.perlspark.model.learn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void constantWithAndWithoutWarmup() {
    LrSchedule c = LrSchedule.constant(1e-6);
    assertEquals(1e-6, c.lr(0));
    assertEquals(1e-6, c.lr(1_000_000));
    LrSchedule w = LrSchedule.parse("constant", 1e-3, 4, 0, 0);
    assertEquals(0.25e-3, w.lr(0), 1e-15);
    assertEquals(0.75e-3, w.lr(2), 1e-15);
    assertEquals(1e-3, w.lr(3), 1e-15);
    assertEquals(1e-3, w.lr(50), 1e-15);
  }

  @Test
  void warmupThenCosineToMinRatio() {
    LrSchedule s = LrSchedule.parse("cosine", 1.0, 10, 110, 0.1);
    assertEquals(0.1, s.lr(0), 1e-12, "warmup starts at lr/warmup");
    assertEquals(0.5, s.lr(4), 1e-12);
    assertEquals(1.0, s.lr(9), 1e-12, "warmup ends at lr");
    assertEquals(1.0, s.lr(10), 1e-12, "cosine starts at lr");
    assertEquals(0.1 + 0.9 * 0.5, s.lr(60), 1e-12, "half way: the mean of lr and min");
    assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.lr(35), 1e-12);
    assertEquals(0.1, s.lr(110), 1e-12, "ends at minLrRatio·lr");
    assertEquals(0.1, s.lr(500), 1e-12, "and stays there");
    double prev = Double.POSITIVE_INFINITY;
    for (long step = 10; step <= 110; step++) {
      assertTrue(s.lr(step) <= prev);
      prev = s.lr(step);
    }
  }

  @Test
  void parseAcceptsAliasesAndRejectsUnknownNamesClearly() {
    assertEquals(LrSchedule.Kind.COSINE, LrSchedule.parse("Warmup-Cosine", 1, 0, 10, 0).kind());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("linear", 1, 0, 10, 0));
    assertTrue(e.getMessage().contains("'linear'") && e.getMessage().contains("constant, cosine"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1, 10, 10, 0));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1, 0, 10, 1.5));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(1).lr(-1));
  }
}
