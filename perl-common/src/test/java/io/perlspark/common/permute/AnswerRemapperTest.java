package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AnswerRemapperTest {
  /** New slot 0 holds old slot 2, new 1 holds old 0, new 2 holds old 1. */
  private static final int[] ORDER = {2, 0, 1};

  @Test
  void imageIndexFollowsItsImage() {
    // Old image 1 (slot 0) is now at slot 1 -> "2"; old image 3 (slot 2) is now at slot 0 -> "1".
    assertEquals("2", remap(AnswerKind.IMAGE_INDEX, "1"));
    assertEquals("1", remap(AnswerKind.IMAGE_INDEX, " 3 "));
  }

  @ParameterizedTest
  @ValueSource(strings = {"3,1,2", "3 1 2", "3>1>2", "[3, 1, 2]", "3;1;2", " 3 > 1 > 2 "})
  void orderingAcceptsSeveralSeparatorsAndIsWrittenCanonically(String answer) {
    // 3 -> 1, 1 -> 2, 2 -> 3
    assertEquals("1,2,3", remap(AnswerKind.ORDERING, answer));
  }

  @Test
  void boundOptionLetterNamesTheSlotThatNowHoldsTheCorrectImage() {
    Sample s = Fixtures.sample("opt", 3, AnswerKind.OPTION_LETTER, "A", true, List.of(0, 1, 2));
    assertEquals("B", AnswerRemapper.remap(s, ORDER)); // old slot 0 is now slot 1 = option B
    Sample reversedOptions = Fixtures.sample("opt2", 3, AnswerKind.OPTION_LETTER, "c", true, List.of(2, 1, 0));
    // option C = old slot 0 -> now slot 1 -> option B (options name slots 2,1,0)
    assertEquals("B", AnswerRemapper.remap(reversedOptions, ORDER));
  }

  @Test
  void orderInvariantKindsAndOrderInsensitiveSamplesKeepTheirAnswer() {
    assertEquals("3/4", AnswerRemapper.remap(Fixtures.sample("n", 3, AnswerKind.NUMBER, "3/4", true), ORDER));
    assertEquals("yes", AnswerRemapper.remap(Fixtures.sample("y", 3, AnswerKind.YES_NO, "yes", true), ORDER));
    assertEquals("red", AnswerRemapper.remap(Fixtures.sample("t", 3, AnswerKind.TEXT, "red", true), ORDER));
    assertEquals("B", AnswerRemapper.remap(Fixtures.sample("o", 3, AnswerKind.OPTION_LETTER, "B", true), ORDER));
    assertEquals("1", AnswerRemapper.remap(Fixtures.sample("i", 3, AnswerKind.IMAGE_INDEX, "1", false), ORDER));
  }

  @Test
  void unparseableAnswersNameTheSample() {
    for (Sample s : List.of(
        Fixtures.sample("bad-idx", 3, AnswerKind.IMAGE_INDEX, "two", true),
        Fixtures.sample("idx-range", 3, AnswerKind.IMAGE_INDEX, "4", true),
        Fixtures.sample("bad-ord", 3, AnswerKind.ORDERING, "1,x,2", true),
        Fixtures.sample("dup-ord", 3, AnswerKind.ORDERING, "1,1,2", true),
        Fixtures.sample("bad-opt", 3, AnswerKind.OPTION_LETTER, "AB", true, List.of(0, 1, 2)),
        Fixtures.sample("opt-range", 3, AnswerKind.OPTION_LETTER, "D", true, List.of(0, 1, 2)))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnswerRemapper.remap(s, ORDER));
      assertTrue(e.getMessage().contains("'" + s.id() + "'"), e.getMessage());
    }
  }

  @Test
  void anOrderThatIsNotAPermutationIsRefused() {
    Sample s = Fixtures.sample("x", 3, AnswerKind.IMAGE_INDEX, "1", true);
    assertThrows(IllegalArgumentException.class, () -> AnswerRemapper.remap(s, new int[] {0, 0, 1}));
    assertThrows(IllegalArgumentException.class, () -> AnswerRemapper.remap(s, new int[] {0, 1}));
    assertThrows(IllegalArgumentException.class, () -> AnswerRemapper.remap(s, new int[] {0, 1, 3}));
  }

  @Test
  void correctImageMovingToAnUnboundSlotIsAnError() {
    Sample s = Fixtures.sample("partial", 3, AnswerKind.OPTION_LETTER, "A", true, List.of(1, 2));
    // old slot 1 (option A) moves to slot 0, which no option names
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AnswerRemapper.remap(s, new int[] {1, 0, 2}));
    assertTrue(e.getMessage().contains("no option names"), e.getMessage());
  }

  private static String remap(AnswerKind kind, String answer) {
    return AnswerRemapper.remap(Fixtures.sample("s", 3, kind, answer, true), ORDER);
  }
}
