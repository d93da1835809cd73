package io.perlspark.common.rl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class GroupAdvantagesTest {

  @Test
  void grpoMatchesHandComputedValues() {
    // mean 0.5, deviations ±0.5, unbiased var = 4·0.25/3 = 1/3.
    double a = 0.5 / (Math.sqrt(1.0 / 3.0) + 1e-6);
    assertEquals(0.8660239037870368, a, 1e-15);
    assertArrayEquals(new double[] {a, -a, -a, a},
        GroupAdvantages.compute(new double[] {1, 0, 0, 1}, true), 1e-12);

    // mean 1.1/3, deviations 1.6/3, -0.8/3, -0.8/3; unbiased var = (2.56+0.64+0.64)/9/2 = 1.92/9.
    double std = Math.sqrt(1.92) / 3.0;
    assertArrayEquals(
        new double[] {(1.6 / 3) / (std + 1e-6), (-0.8 / 3) / (std + 1e-6), (-0.8 / 3) / (std + 1e-6)},
        GroupAdvantages.compute(new double[] {0.9, 0.1, 0.1}, true), 1e-12);
    assertArrayEquals(new double[] {1.1546980383846641, -0.5773490191923322, -0.5773490191923322},
        GroupAdvantages.compute(new double[] {0.9, 0.1, 0.1}, true), 1e-12);
  }

  @Test
  void drGrpoIsTheCentredReward() {
    assertArrayEquals(new double[] {0.5, -0.5, -0.5, 0.5},
        GroupAdvantages.compute(new double[] {1, 0, 0, 1}, false), 1e-15);
    assertArrayEquals(new double[] {0.6, -0.3, -0.3},
        AdvantageEstimator.DR_GRPO.compute(new double[] {1.0, 0.1, 0.1}), 1e-12);
  }

  @Test
  void equalRewardsGiveExactlyZero() {
    // (0.1+0.1+0.1)/3 != 0.1 in doubles: a naive mean would leave tiny non-zero advantages.
    for (boolean scale : new boolean[] {true, false}) {
      for (double[] rewards : List.of(new double[] {0.1, 0.1, 0.1}, new double[] {0.7, 0.7, 0.7, 0.7, 0.7, 0.7},
          new double[] {1, 1}, new double[] {0, 0, 0})) {
        for (double adv : GroupAdvantages.compute(rewards, scale)) {
          assertEquals(0, Double.compare(adv, 0.0), "expected +0.0, got " + adv);
        }
      }
    }
  }

  @Test
  void singleResponseGetsZero() {
    assertArrayEquals(new double[] {0.0}, GroupAdvantages.compute(new double[] {0.9}, true));
    assertArrayEquals(new double[] {0.0}, GroupAdvantages.compute(new double[] {0.9}, false));
  }

  @Test
  void invalidRewardsAreRejectedWithTheIndex() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GroupAdvantages.compute(new double[] {1, Double.NaN}, true));
    assertTrue(e.getMessage().contains("rewards[1]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GroupAdvantages.compute(new double[0], true));
    assertThrows(IllegalArgumentException.class, () -> GroupAdvantages.compute(null, true));
  }

  @Test
  void estimatorParse() {
    assertEquals(AdvantageEstimator.GRPO, AdvantageEstimator.parse("grpo"));
    assertEquals(AdvantageEstimator.DR_GRPO, AdvantageEstimator.parse("drgrpo"));
    assertEquals(AdvantageEstimator.DR_GRPO, AdvantageEstimator.parse("Dr_GRPO"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AdvantageEstimator.parse("ppo"));
    assertTrue(e.getMessage().contains("'ppo'") && e.getMessage().contains("grpo, drgrpo"), e.getMessage());
    assertTrue(AdvantageEstimator.GRPO.scaleByStd());
  }

  /** Rewards on a 0.05 grid, like real 0.9·acc + 0.1·format rewards: a non-constant group has std ≥ ~0.02. */
  private static double[] grid(List<Integer> steps) {
    return steps.stream().mapToDouble(i -> i * 0.05).toArray();
  }

  @Property(tries = 300)
  void advantagesSumToZero(@ForAll @Size(min = 1, max = 24) List<@IntRange(min = 0, max = 20) Integer> steps,
      @ForAll boolean scaleByStd) {
    double sum = 0;
    for (double a : GroupAdvantages.compute(grid(steps), scaleByStd)) {
      sum += a;
    }
    assertEquals(0.0, sum, 1e-9);
  }

  @Property(tries = 300)
  void invariantToAddingAConstant(@ForAll @Size(min = 2, max = 24) List<@IntRange(min = 0, max = 20) Integer> steps,
      @ForAll @DoubleRange(min = -50, max = 50) double shift, @ForAll boolean scaleByStd) {
    double[] r = grid(steps);
    double[] shifted = r.clone();
    for (int i = 0; i < shifted.length; i++) {
      shifted[i] += shift;
    }
    assertArrayEquals(GroupAdvantages.compute(r, scaleByStd), GroupAdvantages.compute(shifted, scaleByStd), 1e-9);
  }

  @Property(tries = 300)
  void grpoInvariantToPositiveScaling(
      @ForAll @Size(min = 2, max = 24) List<@IntRange(min = 0, max = 20) Integer> steps,
      @ForAll @DoubleRange(min = 0.5, max = 20) double scale) {
    double[] r = grid(steps);
    double[] scaled = r.clone();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= scale;
    }
    double[] a = GroupAdvantages.compute(r, true);
    double[] b = GroupAdvantages.compute(scaled, true);
    // Only the 1e-6 in the denominator breaks exact invariance: relative change ≤ 1e-6·|1−1/s|/std,
    // below 1e-4 for std ≥ 0.02.
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-3 * Math.max(1.0, Math.abs(a[i])));
    }
  }

  @Property(tries = 200)
  void constantGroupsAreExactlyZero(@ForAll @DoubleRange(min = -1e6, max = 1e6) double value,
      @ForAll @IntRange(min = 1, max = 32) int size, @ForAll boolean scaleByStd) {
    double[] r = new double[size];
    java.util.Arrays.fill(r, value);
    for (double a : GroupAdvantages.compute(r, scaleByStd)) {
      assertEquals(0, Double.compare(a, 0.0));
    }
  }
}
