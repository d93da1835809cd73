package io.perlspark.common.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.reward.RewardResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GroupFilterTest {

  private static GroupStats stats(double[] acc, double[] fmt) {
    double[] reward = new double[acc.length];
    for (int i = 0; i < acc.length; i++) {
      reward[i] = 0.9 * acc[i] + 0.1 * fmt[i];
    }
    return GroupStats.of("g", reward, acc);
  }

  @Test
  void statsAreMeanAndUnbiasedStd() {
    GroupStats s = GroupStats.of("g1", new double[] {1, 0, 0, 1}, new double[] {1, 0, 0, 0});
    assertEquals(4, s.size());
    assertEquals(0.5, s.meanReward(), 1e-15);
    assertEquals(Math.sqrt(1.0 / 3.0), s.stdReward(), 1e-15);
    assertEquals(0.25, s.meanAccuracy(), 1e-15);
    assertEquals(0.5, s.stdAccuracy(), 1e-15); // deviations .75,-.25×3: ss=.75 → var .25
    assertEquals(0.0, s.minReward());
    assertEquals(1.0, s.maxReward());
  }

  @Test
  void equalValuesHaveStdExactlyZero() {
    GroupStats s = GroupStats.of("g", new double[] {0.1, 0.1, 0.1}, new double[] {0, 0, 0});
    assertEquals(0.0, s.stdReward());
    assertEquals(0.1, s.meanReward());
    assertTrue(s.isZeroVariance(FilterMetric.REWARD));
  }

  @Test
  void fromRewardResultsUsesTotalAndAccuracy() {
    Map<String, Double> right = new LinkedHashMap<>();
    right.put("accuracy", 1.0);
    right.put("format", 1.0);
    GroupStats s = GroupStats.fromResults("g", List.of(
        new RewardResult(1.0, right, "2"), RewardResult.of(0.1, null)));
    assertEquals(0.55, s.meanReward(), 1e-15);
    assertEquals(0.5, s.meanAccuracy(), 1e-15);
  }

  @Test
  void zeroVarianceGroupIsDropped() {
    GroupFilter f = GroupFilter.zeroVariance(FilterMetric.ACCURACY);
    Decision d = f.decide(stats(new double[] {1, 1, 1, 1}, new double[] {1, 1, 1, 1}));
    assertFalse(d.kept());
    assertEquals(DropReason.ZERO_VARIANCE, d.reason());
    assertEquals(Decision.KEEP, f.decide(stats(new double[] {1, 0, 1, 1}, new double[] {1, 1, 1, 1})));
  }

  @Test
  void accuracyMetricAndRewardMetricDiffer() {
    // All answers right, one badly formatted: no accuracy signal, but a reward signal.
    GroupStats s = stats(new double[] {1, 1, 1, 1}, new double[] {1, 0, 1, 1});
    assertTrue(s.isZeroVariance(FilterMetric.ACCURACY));
    assertFalse(s.isZeroVariance(FilterMetric.REWARD));
    assertEquals(Decision.drop(DropReason.ZERO_VARIANCE),
        GroupFilter.zeroVariance(FilterMetric.ACCURACY).decide(s));
    assertEquals(Decision.KEEP, GroupFilter.zeroVariance(FilterMetric.REWARD).decide(s));
  }

  @Test
  void singleResponseGroupIsZeroVarianceUnderBothMetrics() {
    GroupStats s = GroupStats.of("g", new double[] {0.7}, new double[] {1});
    assertTrue(s.isZeroVariance(FilterMetric.ACCURACY));
    assertTrue(s.isZeroVariance(FilterMetric.REWARD));
    assertEquals(DropReason.ZERO_VARIANCE, GroupFilter.zeroVariance(FilterMetric.REWARD).decide(s).reason());
  }

  @Test
  void accuracyBoundsAreInclusive() {
    GroupStats quarter = stats(new double[] {1, 0, 0, 0}, new double[] {1, 1, 1, 1});
    assertEquals(DropReason.BELOW_MIN_ACC,
        new GroupFilter(true, FilterMetric.REWARD, 0.3, null).decide(quarter).reason());
    assertEquals(DropReason.ABOVE_MAX_ACC,
        new GroupFilter(true, FilterMetric.REWARD, null, 0.2).decide(quarter).reason());
    assertEquals(Decision.KEEP, new GroupFilter(true, FilterMetric.ACCURACY, 0.25, 0.25).decide(quarter));
  }

  @Test
  void zeroVarianceIsCheckedBeforeBounds() {
    GroupStats allWrong = stats(new double[] {0, 0, 0}, new double[] {1, 0, 1});
    assertEquals(DropReason.ZERO_VARIANCE,
        new GroupFilter(true, FilterMetric.ACCURACY, 0.5, null).decide(allWrong).reason());
    assertEquals(DropReason.BELOW_MIN_ACC,
        new GroupFilter(true, FilterMetric.REWARD, 0.5, null).decide(allWrong).reason());
  }

  @Test
  void disabledKeepsEverything() {
    assertEquals(Decision.KEEP, GroupFilter.disabled().decide(stats(new double[] {1, 1}, new double[] {1, 1})));
    assertEquals(Decision.KEEP, new GroupFilter(false, FilterMetric.ACCURACY, 0.9, 0.9)
        .decide(stats(new double[] {0, 0}, new double[] {0, 0})));
  }

  @Test
  void invalidConfigurationIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new GroupFilter(true, FilterMetric.ACCURACY, 0.8, 0.2));
    assertTrue(e.getMessage().contains("minGroupAcc"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new GroupFilter(true, FilterMetric.ACCURACY, null, 1.5));
    assertTrue(e.getMessage().contains("maxGroupAcc") && e.getMessage().contains("1.5"), e.getMessage());
    assertThrows(NullPointerException.class, () -> new GroupFilter(true, null, null, null));
    e = assertThrows(IllegalArgumentException.class,
        () -> GroupStats.of("g7", new double[] {1, 0}, new double[] {1}));
    assertTrue(e.getMessage().contains("g7"), e.getMessage());
  }

  @Test
  void metricParseAndDecisionInvariants() {
    assertEquals(FilterMetric.ACCURACY, FilterMetric.parse("accuracy"));
    assertEquals(FilterMetric.REWARD, FilterMetric.parse(" Reward "));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FilterMetric.parse("overall"));
    assertTrue(e.getMessage().contains("'overall'") && e.getMessage().contains("accuracy, reward"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Decision(true, DropReason.ZERO_VARIANCE));
    assertThrows(IllegalArgumentException.class, () -> new Decision(false, null));
  }
}
