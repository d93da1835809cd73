package io.perlspark.common.reward;

import io.perlspark.common.data.Sample;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * 1 when the whole response follows the layout, else 0.
 *
 * <ul>
 *   <li>{@link ResponseFormat#THINK_BOXED}: the trimmed response starts with the one and only
 *       {@code <think>}, has exactly one {@code </think>}, and the text after it holds a
 *       {@code \boxed{…}} with balanced braces — EasyR1's fullmatch of
 *       {@code <think>.*</think>.*\\boxed\{.*\}.*} made strict about the tags and braces.
 *   <li>{@link ResponseFormat#ANSWER_TAG}: the trimmed response is {@code <think>…</think>}, optional
 *       whitespace, then {@code <answer>…</answer>} with a non-blank answer and nothing after it.
 * </ul>
 */
public record FormatReward(ResponseFormat format) implements RewardFunction {

  public FormatReward {
    Objects.requireNonNull(format, "format");
  }

  @Override
  public RewardResult score(String response, Sample sample) {
    double value = matches(response) ? 1.0 : 0.0;
    Map<String, Double> components = new LinkedHashMap<>();
    components.put(RewardResult.FORMAT, value);
    return new RewardResult(value, components, AnswerExtractor.extract(response, format).orElse(null));
  }

  /** Whether the response follows this format. */
  public boolean matches(String response) {
    if (response == null) {
      return false;
    }
    String r = response.strip();
    if (!r.startsWith(AnswerExtractor.THINK_OPEN)
        || AnswerExtractor.count(r, AnswerExtractor.THINK_OPEN) != 1
        || AnswerExtractor.count(r, AnswerExtractor.THINK_CLOSE) != 1) {
      return false;
    }
    String afterThink =
        r.substring(r.indexOf(AnswerExtractor.THINK_CLOSE) + AnswerExtractor.THINK_CLOSE.length());
    return switch (format) {
      case THINK_BOXED -> AnswerExtractor.lastBoxed(afterThink).isPresent();
      case ANSWER_TAG -> answerBlockOnly(afterThink.strip());
    };
  }

  private static boolean answerBlockOnly(String s) {
    return s.startsWith(AnswerExtractor.ANSWER_OPEN)
        && s.endsWith(AnswerExtractor.ANSWER_CLOSE)
        && AnswerExtractor.count(s, AnswerExtractor.ANSWER_OPEN) == 1
        && AnswerExtractor.count(s, AnswerExtractor.ANSWER_CLOSE) == 1
        && AnswerExtractor.lastAnswerTag(s).isPresent();
  }
}
