package io.perlspark.common.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConsistencyTest {

  private static int[] slots(EvalRecord r) {
    return Consistency.originalSlots(r).orElseThrow();
  }

  @Test
  void imageIndexMapsBackThroughTheOrder() {
    EvalRecord original = Rec.whichImage("s", 2, 2, 2).build();
    EvalRecord swapped = Rec.whichImage("s", 2, 1, 1).perm(1, 1, 0).build();
    assertArrayEquals(new int[] {1}, slots(original));
    assertArrayEquals(new int[] {1}, slots(swapped)); // "1" under [1,0] is original slot 1
    assertTrue(Consistency.consistent(List.of(original, swapped)));

    EvalRecord alwaysFirst = Rec.whichImage("s", 2, 1, 1).build();
    EvalRecord alwaysFirstSwapped = Rec.whichImage("s", 2, 1, 1).perm(1, 1, 0).build();
    assertArrayEquals(new int[] {0}, slots(alwaysFirst));
    assertArrayEquals(new int[] {1}, slots(alwaysFirstSwapped));
    assertFalse(Consistency.consistent(List.of(alwaysFirst, alwaysFirstSwapped)));
  }

  @Test
  void threeImageRotation() {
    // order [2,0,1]: slot 0 shows original image 2, slot 1 original 0, slot 2 original 1
    EvalRecord rotated = Rec.whichImage("s", 3, 1, 3).perm(2, 2, 0, 1).build();
    assertArrayEquals(new int[] {1}, slots(rotated));
    assertTrue(Consistency.consistent(List.of(Rec.whichImage("s", 3, 2, 2).build(), rotated)));
  }

  @Test
  void orderingMapsEveryElement() {
    EvalRecord original = Rec.of("o").family("order").kind(AnswerKind.ORDERING).images(3).gold("2,3,1")
        .predicted("2,3,1").correct(true).build();
    // under [2,0,1] the same content order 1,2,0 (original slots) reads 3,1,2
    EvalRecord consistent = Rec.of("o").family("order").kind(AnswerKind.ORDERING).images(3).perm(1, 2, 0, 1)
        .gold("3,1,2").predicted("3,1,2").correct(true).build();
    EvalRecord sameText = Rec.of("o").family("order").kind(AnswerKind.ORDERING).images(3).perm(1, 2, 0, 1)
        .gold("3,1,2").predicted("2,3,1").correct(false).build();
    assertArrayEquals(new int[] {1, 2, 0}, slots(original));
    assertArrayEquals(new int[] {1, 2, 0}, slots(consistent));
    assertArrayEquals(new int[] {0, 1, 2}, slots(sameText));
    assertTrue(Consistency.consistent(List.of(original, consistent)));
    assertFalse(Consistency.consistent(List.of(original, sameText)));
  }

  @Test
  void orderingOutOfRangeOrUnparseableHasNoSlots() {
    Rec base = Rec.of("o").kind(AnswerKind.ORDERING).images(2).gold("1,2");
    assertEquals(Optional.empty(), Consistency.originalSlots(base.predicted("1,3").build()));
    assertEquals(Optional.empty(), Consistency.originalSlots(base.predicted("first").build()));
    assertEquals(Optional.empty(), Consistency.originalSlots(base.predicted(null).build()));
  }

  @Test
  void boundOptionLettersUseThePredictedPosition() {
    Rec option = Rec.of("q").family("which_option").kind(AnswerKind.OPTION_LETTER).images(2);
    EvalRecord original = option.answerAt(2).gold("B").predicted("B").predictedPosition(2).build();
    EvalRecord swapped = option.perm(1, 1, 0).answerAt(1).gold("A").predicted("A").predictedPosition(1).build();
    assertTrue(Consistency.namesImages(original));
    assertArrayEquals(new int[] {1}, slots(original));
    assertArrayEquals(new int[] {1}, slots(swapped));
    assertTrue(Consistency.consistent(List.of(original, swapped)));
  }

  @Test
  void orderInvariantKindsCompareCanonicalAnswers() {
    Rec number = Rec.of("n").family("count").kind(AnswerKind.NUMBER).images(2).gold("2");
    EvalRecord two = number.predicted("2").build();
    EvalRecord twoSwapped = number.perm(1, 1, 0).predicted("2").build();
    EvalRecord three = number.perm(1, 1, 0).predicted("3").build();
    assertFalse(Consistency.namesImages(two));
    assertEquals(Optional.empty(), Consistency.originalSlots(two));
    assertTrue(Consistency.consistent(List.of(two, twoSwapped)));
    assertFalse(Consistency.consistent(List.of(two, three)));

    // option letters not bound to images are order-invariant: the same letter is the same answer
    Rec unbound = Rec.of("u").kind(AnswerKind.OPTION_LETTER).images(2).gold("C");
    EvalRecord c = unbound.predicted("C").build();
    EvalRecord cSwapped = unbound.perm(1, 1, 0).predicted("C").build();
    assertFalse(Consistency.namesImages(c));
    assertTrue(Consistency.consistent(List.of(c, cSwapped)));

    Rec yesNo = Rec.of("y").kind(AnswerKind.YES_NO).images(2).gold("yes");
    assertFalse(Consistency.consistent(List.of(yesNo.predicted("yes").build(), yesNo.perm(1, 1, 0).predicted("no").build())));
  }

  @Test
  void aMissingPredictionIsNeverConsistent() {
    Rec text = Rec.of("t").kind(AnswerKind.TEXT).images(2).gold("red");
    assertFalse(Consistency.consistent(List.of(text.predicted(null).build(), text.perm(1, 1, 0).predicted(null).build())));
    assertFalse(Consistency.consistent(List.of(Rec.whichImage("s", 2, 1, 0).build(),
        Rec.whichImage("s", 2, 2, 0).perm(1, 1, 0).build())));
    assertFalse(Consistency.consistent(List.of()));
    assertTrue(Consistency.consistent(List.of(text.predicted("red").build())));
  }
}
