package io.perlspark.common.permute;

import static io.perlspark.common.permute.PermutationEligibility.Verdict.NOT_REMAPPABLE;
import static io.perlspark.common.permute.PermutationEligibility.Verdict.PERMUTABLE;
import static io.perlspark.common.permute.PermutationEligibility.Verdict.POSITION_REFERRING_TEXT;
import static io.perlspark.common.permute.PermutationEligibility.Verdict.TOO_FEW_IMAGES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PermutationEligibilityTest {
  private static final SlotSelection ALL = SlotSelection.all();

  @ParameterizedTest
  @ValueSource(strings = {
      "Is image 2 brighter?", "What is in Image-3?", "compare img1 and img3", "Does the first image show a cat?",
      "In the second picture, count the dots.", "Look at the LAST IMAGE.", "Are images 1 and 2 alike?",
      "the 3rd photo", "image #2", "Image two is red.", "the first two images", "the next image",
      "the picture on the left", "the image in position 2", "Compare fig. 2 with the rest",
      "image 1: <image> image 2: <image> Is image 1 larger than image 2?"})
  void positionReferencesAreFound(String text) {
    assertTrue(PermutationEligibility.refersToImagePosition(text), text);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "<image><image><image> How many images show a cat?", "<image> <image> Which image shows a red circle?",
      "Look at these images. <image><image>", "The following images: <image> <image> Count the circles.",
      "First, look at each image carefully.", "Describe the imagery. <image><image>",
      "In the image, count the shapes <image>", "There are 3 images.", "Pick the right image <image><image>",
      "Image 1: <image>\nImage 2: <image>\nWhich image has more dots?",
      "[Image 1] <image> [Image 2] <image> Which one is blue?"})
  void nonReferencesAreNotFound(String text) {
    assertFalse(PermutationEligibility.refersToImagePosition(text), text);
  }

  @Test
  void slotLabelOnTheWrongSlotStillCounts() {
    // "Image 2" labels the FIRST placeholder: the label names a position other than its slot.
    assertTrue(PermutationEligibility.refersToImagePosition("Image 2: <image> Image 1: <image> Which is red?"));
  }

  @Test
  void positionReferringPromptIsNotPermuted() {
    Sample s = Fixtures.withPrompt(Fixtures.sample("a", 3, AnswerKind.YES_NO, "yes", false),
        "<image><image><image> Is the first image red?");
    assertEquals(POSITION_REFERRING_TEXT, PermutationEligibility.check(s, ALL));
  }

  @Test
  void singleImageIsTooFew() {
    Sample s = Fixtures.sample("b", 1, AnswerKind.IMAGE_INDEX, "1", true);
    assertEquals(TOO_FEW_IMAGES, PermutationEligibility.check(s, ALL));
  }

  @Test
  void skipFirstLeavingOneMovableSlotIsTooFew() {
    Sample s = Fixtures.sample("c", 2, AnswerKind.IMAGE_INDEX, "2", true);
    assertEquals(TOO_FEW_IMAGES, PermutationEligibility.check(s, SlotSelection.skipFirst(1)));
    assertEquals(PERMUTABLE, PermutationEligibility.check(s, ALL));
  }

  @Test
  void orderSensitiveAnswersThatCannotFollowTheImagesAreNotRemappable() {
    assertEquals(NOT_REMAPPABLE, PermutationEligibility.check(Fixtures.sample("t", 3, AnswerKind.TEXT, "red", true), ALL));
    assertEquals(NOT_REMAPPABLE, PermutationEligibility.check(Fixtures.sample("n", 3, AnswerKind.NUMBER, "2", true), ALL));
    assertEquals(NOT_REMAPPABLE, PermutationEligibility.check(Fixtures.sample("y", 3, AnswerKind.YES_NO, "no", true), ALL));
    assertEquals(NOT_REMAPPABLE,
        PermutationEligibility.check(Fixtures.sample("o", 3, AnswerKind.OPTION_LETTER, "B", true), ALL));
  }

  @Test
  void boundOptionLettersAreRemappableOnlyWhenTheCorrectImageStaysAnOption() {
    Sample allBound = Fixtures.sample("o1", 3, AnswerKind.OPTION_LETTER, "B", true, List.of(0, 1, 2));
    assertEquals(PERMUTABLE, PermutationEligibility.check(allBound, ALL));
    Sample partlyBound = Fixtures.sample("o2", 3, AnswerKind.OPTION_LETTER, "A", true, List.of(1, 2));
    assertEquals(NOT_REMAPPABLE, PermutationEligibility.check(partlyBound, ALL)); // slot 0 could receive the answer
    assertEquals(PERMUTABLE, PermutationEligibility.check(partlyBound, SlotSelection.skipFirst(1)));
  }

  @Test
  void orderInsensitiveCountQuestionIsPermutedWithItsAnswerUnchanged() {
    Sample s = Fixtures.withPrompt(Fixtures.sample("count", 3, AnswerKind.NUMBER, "4", false),
        "<image><image><image> How many images show a circle?");
    assertEquals(PERMUTABLE, PermutationEligibility.check(s, ALL));
    Permuter p = Permuter.builder().setSeed(3).optSchedule(DecaySchedule.constant(1)).optCopies(2).build();
    List<PermutedSample> group = p.expand(s, 0, 10);
    assertEquals(3, group.size());
    for (PermutedSample ps : group) {
      assertEquals("4", ps.sample().answer());
      assertEquals(s.prompt(), ps.sample().prompt());
    }
  }

  @Test
  void ineligibleSampleYieldsOnlyTheOriginal() {
    Permuter p = Permuter.builder().setSeed(3).optSchedule(DecaySchedule.constant(1)).build();
    List<PermutedSample> group = p.expand(Fixtures.sample("t", 3, AnswerKind.TEXT, "red", true), 0, 10);
    assertEquals(1, group.size());
    assertEquals(0, group.get(0).copy());
  }
}
