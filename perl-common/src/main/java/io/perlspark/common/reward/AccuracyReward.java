package io.perlspark.common.reward;

import io.perlspark.common.data.Sample;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * 1 when the answer extracted from the response equals the sample's ground truth under the
 * sample's {@link io.perlspark.common.data.AnswerKind} (see {@link AnswerNormalizer}), else 0. A
 * response without an extractable answer scores 0.
 */
public record AccuracyReward(ResponseFormat format) implements RewardFunction {

  public AccuracyReward {
    Objects.requireNonNull(format, "format");
  }

  /**
   * @throws IllegalArgumentException when the sample's ground truth is not a valid answer of its
   *     kind; the message names the sample
   */
  @Override
  public RewardResult score(String response, Sample sample) {
    Objects.requireNonNull(sample, "sample");
    Optional<String> extracted = AnswerExtractor.extract(response, format);
    boolean correct;
    try {
      correct = AnswerNormalizer.matches(extracted.orElse(null), sample.answer(), sample.answerKind());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sample '" + sample.id() + "': " + e.getMessage(), e);
    }
    double value = correct ? 1.0 : 0.0;
    Map<String, Double> components = new LinkedHashMap<>();
    components.put(RewardResult.ACCURACY, value);
    return new RewardResult(value, components, extracted.orElse(null));
  }
}
