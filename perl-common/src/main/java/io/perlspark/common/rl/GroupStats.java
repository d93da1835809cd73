package io.perlspark.common.rl;

import io.perlspark.common.reward.RewardResult;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Statistics of one GRPO group (an original prompt and its permuted copies, all responses).
 *
 * @param groupId the group's id (the original sample's id)
 * @param size number of responses
 * @param meanReward mean total reward
 * @param stdReward unbiased std of the total reward; exactly 0 for equal rewards or one response
 * @param minReward smallest total reward
 * @param maxReward largest total reward
 * @param meanAccuracy mean accuracy component (the group's pass rate for 0/1 accuracy)
 * @param stdAccuracy unbiased std of the accuracy; exactly 0 for equal values or one response
 */
public record GroupStats(
    String groupId,
    int size,
    double meanReward,
    double stdReward,
    double minReward,
    double maxReward,
    double meanAccuracy,
    double stdAccuracy)
    implements Serializable {

  public GroupStats {
    Objects.requireNonNull(groupId, "groupId");
    if (size < 1) {
      throw new IllegalArgumentException("group '" + groupId + "' size must be >= 1, got " + size);
    }
    if (!(stdReward >= 0) || !(stdAccuracy >= 0)) {
      throw new IllegalArgumentException("group '" + groupId + "' std must be >= 0, got reward std "
          + stdReward + ", accuracy std " + stdAccuracy);
    }
  }

  /** Statistics from per-response rewards and accuracies (same length, same order). */
  public static GroupStats of(String groupId, double[] rewards, double[] accuracies) {
    Moments.requireValid(rewards, "group '" + groupId + "' rewards");
    Moments.requireValid(accuracies, "group '" + groupId + "' accuracies");
    if (rewards.length != accuracies.length) {
      throw new IllegalArgumentException("group '" + groupId + "' has " + rewards.length
          + " rewards but " + accuracies.length + " accuracies");
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double r : rewards) {
      min = Math.min(min, r);
      max = Math.max(max, r);
    }
    return new GroupStats(groupId, rewards.length, Moments.mean(rewards), Moments.unbiasedStd(rewards),
        min, max, Moments.mean(accuracies), Moments.unbiasedStd(accuracies));
  }

  /** Statistics from reward results: total as reward, {@link RewardResult#accuracy()} as accuracy. */
  public static GroupStats fromResults(String groupId, List<RewardResult> results) {
    Objects.requireNonNull(results, "results");
    double[] rewards = new double[results.size()];
    double[] accuracies = new double[results.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = results.get(i).total();
      accuracies[i] = results.get(i).accuracy();
    }
    return of(groupId, rewards, accuracies);
  }

  public double mean(FilterMetric metric) {
    return Objects.requireNonNull(metric, "metric") == FilterMetric.ACCURACY ? meanAccuracy : meanReward;
  }

  public double std(FilterMetric metric) {
    return Objects.requireNonNull(metric, "metric") == FilterMetric.ACCURACY ? stdAccuracy : stdReward;
  }

  /** No GRPO signal under this metric: one response, or a std of exactly 0. */
  public boolean isZeroVariance(FilterMetric metric) {
    return size == 1 || std(metric) == 0.0;
  }
}
