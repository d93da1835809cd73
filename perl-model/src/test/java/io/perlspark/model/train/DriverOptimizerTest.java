package io.perlspark.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.GradClip;
import io.perlspark.model.learn.LrSchedule;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DriverOptimizerTest {
  static final int N = 257;
  static final LrSchedule SCHEDULE = LrSchedule.warmupCosine(1e-2, 2, 20, 0.1);

  static float[] vector(long seed, double scale) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] v = new float[N];
    for (int i = 0; i < N; i++) {
      v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  static DriverOptimizer optimizer(float[] params) {
    return new DriverOptimizer(params, new AdamW(0.9, 0.95, 1e-8, 0.01), SCHEDULE, 1.0);
  }

  @Test
  void clipsThenAppliesAdamWWithTheScheduledLr() {
    float[] start = vector(1, 1);
    DriverOptimizer opt = optimizer(start);
    AdamW manual = new AdamW(0.9, 0.95, 1e-8, 0.01);
    float[] expected = start.clone();
    for (int s = 0; s < 4; s++) {
      double scale = s % 2 == 0 ? 0.5 : 0.01; // norms ~4.6 (clipped) and ~0.09 (not)
      float[] g = vector(10 + s, scale);
      float[] g2 = g.clone();
      double norm = GradClip.clipByGlobalNorm(g2, 1.0);
      manual.step(expected, g2, SCHEDULE.lr(s));
      StepReport r = opt.step(g);
      assertEquals(s, r.step());
      assertEquals(SCHEDULE.lr(s), r.lr());
      assertEquals(norm, r.gradNorm(), "the norm is reported before clipping");
      assertEquals(norm > 1.0, r.clipped());
      assertFalse(r.skipped());
      assertEquals(s + 1, r.updates());
      assertArrayEquals(expected, opt.params(), 0f);
      assertArrayEquals(g2, g, 0f, "the gradient is clipped in place");
    }
    assertEquals(4, opt.steps());
    assertFalse(Arrays.equals(start, opt.params()));
  }

  @Test
  void aRunThatSkipsEveryStepIsStopped() {
    DriverOptimizer opt = optimizer(vector(2, 1));
    float[] nan = vector(4, 0.01);
    nan[3] = Float.NaN;
    for (int i = 1; i < DriverOptimizer.MAX_SKIPPED_IN_A_ROW; i++) {
      opt.step(nan.clone());
      opt.requireProgress(); // a few skipped steps are tolerated
    }
    opt.step(vector(5, 0.01)); // one finite step resets the count
    assertEquals(0, opt.skippedInARow());
    for (int i = 0; i < DriverOptimizer.MAX_SKIPPED_IN_A_ROW; i++) {
      opt.step(nan.clone());
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, opt::requireProgress);
    assertTrue(e.getMessage().contains("non-finite (NaN or inf) in the last 10 steps"), e.getMessage());
  }

  @Test
  void nonFiniteGradientSkipsTheUpdateButAdvancesTheSchedule() {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      DriverOptimizer opt = optimizer(vector(2, 1));
      opt.step(vector(3, 0.01));
      float[] before = opt.params();
      byte[] stateBefore = opt.exportState();
      float[] g = vector(4, 0.01);
      g[17] = bad;
      StepReport r = opt.step(g);
      assertTrue(r.skipped());
      assertFalse(Double.isFinite(r.gradNorm()));
      assertEquals(1, r.step());
      assertEquals(1, r.updates());
      assertArrayEquals(before, opt.params(), 0f);
      assertEquals(2, opt.steps());
      assertEquals(1, opt.updates());
      // Only the step counter (the first 16 bytes: magic, version, steps) moved.
      byte[] stateAfter = opt.exportState();
      assertArrayEquals(
          Arrays.copyOfRange(stateBefore, 16, stateBefore.length),
          Arrays.copyOfRange(stateAfter, 16, stateAfter.length));
      StepReport next = opt.step(vector(5, 0.01));
      assertEquals(2, next.step());
      assertEquals(SCHEDULE.lr(2), next.lr());
      assertEquals(2, next.updates());
    }
    DriverOptimizer noClip = new DriverOptimizer(vector(2, 1), new AdamW(0.0), SCHEDULE, null);
    float[] g = vector(4, 1);
    g[0] = Float.NaN;
    assertTrue(noClip.step(g).skipped());
  }

  @Test
  void exportedStateContinuesBitForBit() {
    DriverOptimizer a = optimizer(vector(6, 1));
    for (int s = 0; s < 3; s++) {
      a.step(vector(20 + s, 0.3));
    }
    byte[] state = a.exportState();
    DriverOptimizer b = optimizer(vector(99, 1)); // other parameters, replaced below
    b.setParams(a.params());
    b.importState(state);
    assertEquals(3, b.steps());
    assertEquals(3, b.updates());
    for (int s = 3; s < 8; s++) {
      StepReport ra = a.step(vector(20 + s, 0.3));
      StepReport rb = b.step(vector(20 + s, 0.3));
      assertEquals(ra, rb);
      assertArrayEquals(a.params(), b.params(), 0f);
    }
    assertArrayEquals(a.exportState(), b.exportState());
    assertTrue(Arrays.equals(a.params(), b.params()));

    // A fresh optimizer's state round-trips too.
    DriverOptimizer fresh = optimizer(vector(7, 1));
    DriverOptimizer copy = optimizer(vector(7, 1));
    copy.importState(fresh.exportState());
    assertEquals(fresh.step(vector(8, 1)), copy.step(vector(8, 1)));
    assertArrayEquals(fresh.params(), copy.params(), 0f);
  }

  @Test
  void foreignOrMismatchedStateIsRejectedAndChangesNothing() {
    DriverOptimizer a = optimizer(vector(6, 1));
    a.step(vector(1, 0.1));
    byte[] good = a.exportState();
    DriverOptimizer other =
        new DriverOptimizer(new float[N + 1], new AdamW(0.0), SCHEDULE, 1.0);
    IllegalArgumentException size =
        assertThrows(IllegalArgumentException.class, () -> other.importState(good));
    assertTrue(size.getMessage().contains("for 257 parameters"), size.getMessage());
    assertEquals(0, other.steps());

    byte[] garbage = good.clone();
    garbage[0] ^= 1;
    DriverOptimizer b = optimizer(vector(6, 1));
    assertThrows(IllegalArgumentException.class, () -> b.importState(garbage));
    assertThrows(
        IllegalArgumentException.class, () -> b.importState(Arrays.copyOf(good, good.length - 3)));
    assertEquals(0, b.steps());
    assertEquals(0, b.updates());
    assertThrows(IllegalArgumentException.class, () -> b.step(new float[N - 1]));
    assertThrows(
        IllegalArgumentException.class,
        () -> new DriverOptimizer(new float[3], new AdamW(0.0), SCHEDULE, 0.0));
  }
}
