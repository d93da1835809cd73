package io.perlspark.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.family.builtin.TinyVlm;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The update path every trainer shares: clip, AdamW, write back, progress check. */
class PolicyUpdaterTest {

  static float[] gradient(int size, long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] g = new float[size];
    for (int i = 0; i < size; i++) {
      g[i] = (float) (r.nextGaussian() * 0.1);
    }
    return g;
  }

  @Test
  void anUpdateIsTheOptimizersStepWrittenIntoTheModel() {
    try (TinyVlm model = TrainFixtures.model(3); TinyVlm twin = TrainFixtures.model(3)) {
      PolicyUpdater updater = PolicyUpdater.create(model, new AdamW(0.01), LrSchedule.constant(1e-3), 0.5);
      // The same arithmetic by hand, on a twin model's parameters.
      DriverOptimizer byHand = new DriverOptimizer(twin.flatParameters(), new AdamW(0.01), LrSchedule.constant(1e-3), 0.5);
      float[] before = model.flatParameters();
      for (int s = 0; s < 3; s++) {
        float[] g = gradient(before.length, s);
        StepReport report = updater.apply(g.clone());
        StepReport expected = byHand.step(g.clone());
        assertEquals(expected, report);
        assertTrue(report.clipped(), "the gradient norm exceeds 0.5, so it was clipped");
        assertArrayEquals(byHand.params(), model.flatParameters(), "step " + s + " written back bit for bit");
      }
      assertFalse(Arrays.equals(before, model.flatParameters()));
      assertEquals(3, updater.optimizer().updates());
    }
  }

  @Test
  void aNonFiniteGradientLeavesTheModelAsItWasAndTheTenthInARowStopsTheRun() {
    try (TinyVlm model = TrainFixtures.model(5)) {
      PolicyUpdater updater = PolicyUpdater.create(model, new AdamW(0.0), LrSchedule.constant(1e-3), 1.0);
      float[] before = model.flatParameters();
      float[] nan = gradient(before.length, 1);
      nan[7] = Float.NaN;
      for (int i = 1; i < DriverOptimizer.MAX_SKIPPED_IN_A_ROW; i++) {
        assertTrue(updater.apply(nan.clone()).skipped());
      }
      assertArrayEquals(before, model.flatParameters(), "skipped steps change nothing");
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> updater.apply(nan.clone()));
      assertTrue(e.getMessage().contains("in the last 10 steps in a row"), e.getMessage());
    }
  }

  @Test
  void anOptimizerOfAnotherSizeIsRefused() {
    try (TinyVlm model = TrainFixtures.model(5)) {
      DriverOptimizer wrong = new DriverOptimizer(new float[3], new AdamW(0.0), LrSchedule.constant(1e-3), null);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PolicyUpdater(model, wrong));
      assertTrue(e.getMessage().contains("the optimizer holds 3 parameters"), e.getMessage());
    }
  }
}
