package io.perlspark.common.reward;

import java.util.List;

/** Factories for the rewards PeRL trains with. */
public final class Rewards {
  public static final double DEFAULT_ACCURACY_WEIGHT = 0.9;
  public static final double DEFAULT_FORMAT_WEIGHT = 0.1;

  private Rewards() {}

  /** The paper's reward, {@code 0.9·accuracy + 0.1·format}. */
  public static WeightedReward standard(ResponseFormat format) {
    return standard(DEFAULT_ACCURACY_WEIGHT, DEFAULT_FORMAT_WEIGHT, format);
  }

  /** {@code accuracyWeight·accuracy + formatWeight·format}, components named accuracy and format. */
  public static WeightedReward standard(double accuracyWeight, double formatWeight, ResponseFormat format) {
    return new WeightedReward(List.of(
        new WeightedReward.Component(RewardResult.ACCURACY, accuracyWeight, new AccuracyReward(format)),
        new WeightedReward.Component(RewardResult.FORMAT, formatWeight, new FormatReward(format))));
  }
}
