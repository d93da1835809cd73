package io.perlspark.common.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AnswerExtractorTest {

  @Test
  void nestedBracesAreMatchedByCounting() {
    assertEquals(Optional.of("\\frac{1}{2}"), AnswerExtractor.lastBoxed("so \\boxed{\\frac{1}{2}} done"));
    assertEquals(Optional.of("{a}{b{c}}"), AnswerExtractor.lastBoxed("\\boxed{{a}{b{c}}}"));
  }

  @Test
  void whitespaceBetweenBoxedAndBraceAndInsideIsTolerated() {
    assertEquals(Optional.of("x"), AnswerExtractor.lastBoxed("\\boxed {x}"));
    assertEquals(Optional.of("2"), AnswerExtractor.lastBoxed("\\boxed\n{  2 }"));
  }

  @Test
  void lastBoxedWins() {
    assertEquals(Optional.of("3"), AnswerExtractor.lastBoxed("maybe \\boxed{1}, no: \\boxed{3}"));
  }

  @Test
  void unbalancedLastBoxedGivesNoneEvenIfAnEarlierOneIsClosed() {
    assertTrue(AnswerExtractor.lastBoxed("\\boxed{\\frac{1}{2}").isEmpty());
    assertTrue(AnswerExtractor.lastBoxed("\\boxed{1} then \\boxed{2").isEmpty());
  }

  @Test
  void escapedBracesDoNotCount() {
    assertEquals(Optional.of("\\{1,2\\}"), AnswerExtractor.lastBoxed("\\boxed{\\{1,2\\}}"));
  }

  @Test
  void missingOrEmptyBoxGivesNone() {
    assertTrue(AnswerExtractor.lastBoxed("the answer is 2").isEmpty());
    assertTrue(AnswerExtractor.lastBoxed("\\boxed{  }").isEmpty());
    assertTrue(AnswerExtractor.lastBoxed("\\boxed 2").isEmpty());
    assertTrue(AnswerExtractor.extract(null, ResponseFormat.THINK_BOXED).isEmpty());
  }

  @Test
  void answerTagTakesTheLastClosedTag() {
    assertEquals(Optional.of("B"),
        AnswerExtractor.extract("<answer>A</answer> hmm <answer> B </answer>", ResponseFormat.ANSWER_TAG));
    assertEquals(Optional.of("A"),
        AnswerExtractor.extract("<answer>A</answer>", ResponseFormat.ANSWER_TAG));
    assertTrue(AnswerExtractor.extract("<answer>A", ResponseFormat.ANSWER_TAG).isEmpty());
    // The boxed format's marker is not an answer tag.
    assertTrue(AnswerExtractor.extract("\\boxed{A}", ResponseFormat.ANSWER_TAG).isEmpty());
    assertTrue(AnswerExtractor.extract("<answer>B</answer>", ResponseFormat.THINK_BOXED).isEmpty());
  }

  @Test
  void boxedInsideAnswerTagIsUnwrapped() {
    assertEquals(Optional.of("2"),
        AnswerExtractor.extract("<answer>\\boxed{2}</answer>", ResponseFormat.ANSWER_TAG));
  }
}
