package io.perlspark.common.reward;

import static io.perlspark.common.reward.TestSamples.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AccuracyRewardTest {
  private final AccuracyReward boxed = new AccuracyReward(ResponseFormat.THINK_BOXED);

  private double score(String answerInBox, String truth, AnswerKind kind) {
    return boxed.score("<think>t</think>\\boxed{" + answerInBox + "}", sample(truth, kind)).accuracy();
  }

  @ParameterizedTest(name = "{2}: {0} vs {1} -> {3}")
  @CsvSource(delimiter = '|', value = {
      "(b)|B|OPTION_LETTER|1", "Option C|B|OPTION_LETTER|0",
      "\\frac{1}{2}|0.5|NUMBER|1", "1,000|1000|NUMBER|1", "-3|3|NUMBER|0",
      "the 2nd image|2|IMAGE_INDEX|1", "12|2|IMAGE_INDEX|0", "12|1|IMAGE_INDEX|0",
      "YES!|yes|YES_NO|1", "yesterday|yes|YES_NO|0", "No|yes|YES_NO|0",
      "The red circle.|red circle|TEXT|1", "blue circle|red circle|TEXT|0",
      "image 2, image 3, image 1|2,3,1|ORDERING|1", "3,2,1|2,3,1|ORDERING|0"})
  void everyKindPositiveAndNegative(String answer, String truth, AnswerKind kind, int expected) {
    assertEquals(expected, score(answer, truth, kind));
  }

  @Test
  void lastBoxedAnswerIsTheOneScored() {
    RewardResult r = boxed.score("<think>\\boxed{1}</think> first \\boxed{1} final \\boxed{2}",
        sample("2", AnswerKind.IMAGE_INDEX));
    assertEquals(1.0, r.accuracy());
    assertEquals("2", r.extractedAnswer());
  }

  @Test
  void noMarkerMeansNoAnswerAndZero() {
    RewardResult r = boxed.score("<think>t</think> the answer is 2", sample("2", AnswerKind.IMAGE_INDEX));
    assertEquals(0.0, r.total());
    assertNull(r.extractedAnswer());
  }

  @Test
  void answerTagMode() {
    AccuracyReward tagged = new AccuracyReward(ResponseFormat.ANSWER_TAG);
    assertEquals(1.0, tagged.score("<think>t</think><answer> B. </answer>",
        sample("B", AnswerKind.OPTION_LETTER)).total());
    assertEquals(0.0, tagged.score("<think>t</think>\\boxed{B}",
        sample("B", AnswerKind.OPTION_LETTER)).total());
  }

  @Test
  void invalidGroundTruthNamesTheSample() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> boxed.score("\\boxed{2}", sample("two", AnswerKind.IMAGE_INDEX)));
    assertTrue(e.getMessage().contains("s-image_index") && e.getMessage().contains("'two'"), e.getMessage());
  }
}
