package io.perlspark.common.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class AnswerNormalizerTest {

  private static Optional<String> canon(String s, AnswerKind k) {
    return AnswerNormalizer.canonical(s, k);
  }

  @ParameterizedTest
  @ValueSource(strings = {"B", "b", "(b)", "B.", "B)", "[B]", "Option B", "option b", "The answer is B",
      "Answer: (B)", "B: a red circle", "(B) a red circle", "B. red", "\\text{B}", "$B$", "**B**", " B "})
  void optionLetterPositives(String s) {
    assertEquals(Optional.of("B"), canon(s, AnswerKind.OPTION_LETTER), s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"AB", "B a red circle", "Bob", "2", "option", "", "B or C", "(BC)"})
  void optionLetterNegatives(String s) {
    assertEquals(Optional.empty(), canon(s, AnswerKind.OPTION_LETTER), s);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "3|3", "-3|-3", "+3|3", "1,000|1000", "-12,345.5|-12345.5", "0.5|0.5", ".5|0.5", "1/2|0.5",
      "-3/4|-0.75", "\\frac{1}{2}|0.5", "\\dfrac{3}{4}|0.75", "-\\frac{1}{4}|-0.25", "\\frac12|0.5",
      "$\\frac{1}{2}$|0.5", "1e3|1000", "3.|3", "2.50|2.5", "−2|-2", "-0|0", "1/3|0.3333333333"})
  void numberPositives(String s, String canonical) {
    assertEquals(Optional.of(canonical), canon(s, AnswerKind.NUMBER), s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"three", "1,00", "1/0", "3 apples", "1.2.3", "", "\\frac{1}{0}", "12,5"})
  void numberNegatives(String s) {
    assertEquals(Optional.empty(), canon(s, AnswerKind.NUMBER), s);
  }

  @Test
  void numbersMatchWithinRelativeTolerance() {
    assertTrue(AnswerNormalizer.matches("0.5", "1/2", AnswerKind.NUMBER));
    assertTrue(AnswerNormalizer.matches("\\frac{1}{3}", "0.3333333", AnswerKind.NUMBER));
    assertTrue(AnswerNormalizer.matches("1000000.5", "1000000", AnswerKind.NUMBER));
    assertFalse(AnswerNormalizer.matches("1000002", "1000000", AnswerKind.NUMBER));
    assertFalse(AnswerNormalizer.matches("0.334", "1/3", AnswerKind.NUMBER));
    assertFalse(AnswerNormalizer.matches("1e-9", "0", AnswerKind.NUMBER));
    assertTrue(AnswerNormalizer.matches("1,000", "1000", AnswerKind.NUMBER));
    assertFalse(AnswerNormalizer.matches("-3", "3", AnswerKind.NUMBER));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "2|2", "image 2|2", "Image-2|2", "img2|2", "Image #2|2", "the 2nd image|2", "second image|2",
      "The second image.|2", "second|2", "(2)|2", "\\text{Image 2}|2", "image 2: the red circle|2",
      "3rd|3", "the first one|1", "10|10", "tenth image|10", "02|2"})
  void imageIndexPositives(String s, String canonical) {
    assertEquals(Optional.of(canonical), canon(s, AnswerKind.IMAGE_INDEX), s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "image 0", "image", "two", "image 2, image 3", "2 3", "-1", "1.5",
      "last image", "images 2", ""})
  void imageIndexNegatives(String s) {
    assertEquals(Optional.empty(), canon(s, AnswerKind.IMAGE_INDEX), s);
  }

  @Test
  void twelveIsNotImageOneOrTwo() {
    assertEquals(Optional.of("12"), canon("12", AnswerKind.IMAGE_INDEX));
    assertFalse(AnswerNormalizer.matches("12", "1", AnswerKind.IMAGE_INDEX));
    assertFalse(AnswerNormalizer.matches("12", "2", AnswerKind.IMAGE_INDEX));
    assertTrue(AnswerNormalizer.matches("Image 2", "2", AnswerKind.IMAGE_INDEX));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "Yes|yes", "yes.|yes", "YES!|yes", "no|no", "No.|no", "\\text{Yes}|yes", "no, they differ|no",
      "Yes!!|yes"})
  void yesNoPositives(String s, String canonical) {
    assertEquals(Optional.of(canonical), canon(s, AnswerKind.YES_NO), s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"yesterday", "nope", "not", "yes no", "maybe", "y", "", "know"})
  void yesNoNegatives(String s) {
    assertEquals(Optional.empty(), canon(s, AnswerKind.YES_NO), s);
  }

  @Test
  void textIsNormalised() {
    assertEquals(Optional.of("red circle"), canon("The Red  Circle!", AnswerKind.TEXT));
    assertEquals(Optional.of("red circle"), canon("a red-circle.", AnswerKind.TEXT));
    assertEquals(Optional.of("theme"), canon("the theme", AnswerKind.TEXT), "articles only as whole words");
    assertEquals(Optional.empty(), canon("The.", AnswerKind.TEXT));
    assertTrue(AnswerNormalizer.matches("\\text{A blue square}", "blue square", AnswerKind.TEXT));
    assertFalse(AnswerNormalizer.matches("blue squares", "blue square", AnswerKind.TEXT));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2,3,1", "2, 3, 1", "2 3 1", "[2, 3, 1]", "(2,3,1)", "2 > 3 > 1", "2->3->1",
      "image 2, image 3, image 1", "Image 2 > Image 3 > Image 1", "2, 3 and 1", "2; 3; 1.",
      "second, third, first", "\\text{2, 3, 1}"})
  void orderingPositives(String s) {
    assertEquals(Optional.of("2,3,1"), canon(s, AnswerKind.ORDERING), s);
    assertEquals(Optional.of(List.of(2, 3, 1)), AnswerNormalizer.parseOrdering(s), s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"2,,3", "2, x, 1", "image 2 image 3", "", "2 3 one", "0,1,2"})
  void orderingNegatives(String s) {
    assertEquals(Optional.empty(), canon(s, AnswerKind.ORDERING), s);
  }

  @Test
  void orderingMustMatchExactlyAsASequence() {
    assertTrue(AnswerNormalizer.matches("[2, 3, 1]", "2,3,1", AnswerKind.ORDERING));
    assertFalse(AnswerNormalizer.matches("2,1,3", "2,3,1", AnswerKind.ORDERING));
    assertFalse(AnswerNormalizer.matches("2,3", "2,3,1", AnswerKind.ORDERING));
    assertFalse(AnswerNormalizer.matches("231", "2,3,1", AnswerKind.ORDERING));
    assertEquals(Optional.of("2"), canon("2", AnswerKind.ORDERING));
  }

  @ParameterizedTest
  @EnumSource(AnswerKind.class)
  void nullExtractedAnswerNeverMatches(AnswerKind kind) {
    String truth = switch (kind) {
      case OPTION_LETTER -> "A";
      case YES_NO -> "yes";
      case TEXT -> "red";
      default -> "1";
    };
    assertFalse(AnswerNormalizer.matches(null, truth, kind));
    assertEquals(Optional.empty(), canon(null, kind));
  }

  @Test
  void invalidGroundTruthIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AnswerNormalizer.matches("2", "two", AnswerKind.IMAGE_INDEX));
    assertTrue(e.getMessage().contains("'two'") && e.getMessage().contains("image_index"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> AnswerNormalizer.matches("2", "n/a", AnswerKind.NUMBER));
  }
}
