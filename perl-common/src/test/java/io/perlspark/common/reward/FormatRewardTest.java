package io.perlspark.common.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FormatRewardTest {
  private final FormatReward boxed = new FormatReward(ResponseFormat.THINK_BOXED);
  private final FormatReward tagged = new FormatReward(ResponseFormat.ANSWER_TAG);

  @ParameterizedTest
  @ValueSource(strings = {
      "<think>image 2 has the circle</think> The answer is \\boxed{2}.",
      "  <think>x</think>\\boxed{\\frac{1}{2}}  \n",
      "<think>\nmulti\nline\n</think>\n\\boxed{B}",
      "<think></think>\\boxed {yes}",
      "<think>a \\boxed{1} inside</think> final \\boxed{2}"})
  void thinkBoxedAccepts(String response) {
    assertTrue(boxed.matches(response), response);
    assertEquals(1.0, boxed.score(response, TestSamples.sample("2", AnswerKind.IMAGE_INDEX)).total());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "\\boxed{2}",                                         // no think block
      "<think>reasoning \\boxed{2}",                        // think never closed
      "</think>x<think>\\boxed{2}",                         // closing before opening
      "intro <think>x</think>\\boxed{2}",                   // text before <think>
      "<think>x</think>the answer is 2",                    // no boxed
      "<think>x</think>\\boxed{\\frac{1}{2}",               // unbalanced braces
      "<think>a</think><think>b</think>\\boxed{2}",         // two think blocks
      "<think>a</think>\\boxed{2}</think>",                 // stray closing tag
      "<think>x \\boxed{2}</think>",                        // boxed only inside the thought
      "<think>x</think>\\boxed{}",                          // empty answer
      ""})
  void thinkBoxedRejects(String response) {
    assertFalse(boxed.matches(response), response);
    assertEquals(0.0, boxed.score(response, TestSamples.sample("2", AnswerKind.IMAGE_INDEX)).format());
  }

  @Test
  void answerTagMode() {
    assertTrue(tagged.matches("<think>x</think> <answer>B</answer>"));
    assertTrue(tagged.matches("<think>x</think>\n<answer>\\boxed{B}</answer>\n"));
    assertFalse(tagged.matches("<think>x</think><answer>B</answer> trailing"));
    assertFalse(tagged.matches("<think>x</think>text<answer>B</answer>"));
    assertFalse(tagged.matches("<think>x</think><answer> </answer>"));
    assertFalse(tagged.matches("<answer>B</answer>"));
    assertFalse(tagged.matches("<think>x</think><answer>A</answer><answer>B</answer>"));
    assertFalse(tagged.matches("<think>x</think>\\boxed{B}"));
  }

  @Test
  void scoreReportsFormatComponentAndExtractedAnswer() {
    RewardResult r = boxed.score("<think>t</think>\\boxed{B}", TestSamples.sample("A", AnswerKind.OPTION_LETTER));
    assertEquals(1.0, r.format());
    assertEquals(0.0, r.accuracy(), "absent component reads as 0");
    assertEquals("B", r.extractedAnswer());
  }

  @Test
  void responseFormatParse() {
    assertEquals(ResponseFormat.THINK_BOXED, ResponseFormat.parse("think-boxed"));
    assertEquals(ResponseFormat.ANSWER_TAG, ResponseFormat.parse(" Answer_Tag "));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ResponseFormat.parse("boxed"));
    assertTrue(e.getMessage().contains("'boxed'") && e.getMessage().contains("think-boxed, answer-tag"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ResponseFormat.parse(null));
  }
}
