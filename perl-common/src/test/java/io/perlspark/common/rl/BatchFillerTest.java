package io.perlspark.common.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class BatchFillerTest {

  /** Hands out consecutive integers; records what each round asked for. */
  private static final class Source implements BatchFiller.Round<Integer> {
    final int limit;
    final int overDraw;
    final List<Integer> asked = new ArrayList<>();
    int next;

    Source(int limit, int overDraw) {
      this.limit = limit;
      this.overDraw = overDraw;
    }

    @Override
    public List<Integer> draw(int roundIndex, int groupsWanted) {
      assertEquals(asked.size(), roundIndex);
      asked.add(groupsWanted);
      List<Integer> out = new ArrayList<>();
      for (int i = 0; i < groupsWanted + overDraw && next < limit; i++) {
        out.add(next++);
      }
      return out;
    }
  }

  /** Keeps multiples of 3; drops others as zero-variance, except 4 is below the accuracy bound. */
  private static final Function<Integer, Decision> MULTIPLES_OF_THREE = g -> g % 3 == 0
      ? Decision.KEEP
      : Decision.drop(g == 4 ? DropReason.BELOW_MIN_ACC : DropReason.ZERO_VARIANCE);

  @Test
  void firstRoundFullMeansOneRound() {
    Source src = new Source(100, 0);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(3, 5, src, g -> Decision.KEEP);
    assertEquals(List.of(0, 1, 2), r.kept());
    assertEquals(1, r.rounds());
    assertEquals(List.of(3), src.asked);
    assertTrue(r.full());
    assertEquals(Map.of(), r.dropReasons());
  }

  @Test
  void fillsAcrossRoundsAskingForTheShortfall() {
    Source src = new Source(100, 0);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(4, 10, src, MULTIPLES_OF_THREE);
    // round 0: 0..3 → keep 0,3; round 1 (2 wanted): 4,5 → none; round 2: 6,7 → 6; round 3: 8 → none;
    // round 4: 9 → 9: full.
    assertEquals(List.of(0, 3, 6, 9), r.kept());
    assertEquals(List.of(4, 2, 2, 1, 1), src.asked);
    assertEquals(5, r.rounds());
    assertEquals(10, r.groupsDrawn());
    assertEquals(6, r.groupsDropped());
    assertEquals(Map.of("BELOW_MIN_ACC", 1, "ZERO_VARIANCE", 5), r.dropReasons());
    assertTrue(r.full());
    assertFalse(r.exhausted());
    assertEquals(0, r.groupsSurplus());
  }

  @Test
  void overDrawIsTruncatedToTheFirstKept() {
    Source src = new Source(100, 5);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(3, 10, src, MULTIPLES_OF_THREE);
    // round 0 returns 0..7 (3 wanted + 5): keeps 0,3,6 — exactly the target; 2 dropped after 6 are still counted.
    assertEquals(List.of(0, 3, 6), r.kept());
    assertEquals(1, r.rounds());
    assertEquals(8, r.groupsDrawn());
    assertEquals(5, r.groupsDropped());

    Source src2 = new Source(100, 5);
    BatchFiller.FillResult<Integer> r2 = BatchFiller.fill(4, 10, src2, MULTIPLES_OF_THREE);
    // round 0 (4 wanted + 5): 0..8 keeps 0,3,6; round 1 (1 wanted + 5): 9..14 keeps 9,12 → truncated to 9.
    assertEquals(List.of(0, 3, 6, 9), r2.kept());
    assertEquals(List.of(4, 1), src2.asked);
    assertEquals(15, r2.groupsDrawn());
    assertEquals(10, r2.groupsDropped());
    assertEquals(1, r2.groupsSurplus());
    assertTrue(r2.full());
  }

  @Test
  void stopsAtTheRoundLimit() {
    Source src = new Source(1000, 0);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(4, 3, src, g -> Decision.drop(DropReason.ZERO_VARIANCE));
    assertEquals(3, r.rounds());
    assertEquals(List.of(4, 4, 4), src.asked);
    assertEquals(12, r.groupsDrawn());
    assertEquals(12, r.groupsDropped());
    assertEquals(Map.of("ZERO_VARIANCE", 12), r.dropReasons());
    assertEquals(List.of(), r.kept());
    assertFalse(r.full());
    assertFalse(r.exhausted());
    assertEquals(1.0, r.dropFraction());
  }

  @Test
  void partialBatchAfterTheRoundLimitKeepsWhatItHas() {
    Source src = new Source(1000, 0);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(5, 2, src, MULTIPLES_OF_THREE);
    // round 0: 0..4 keeps 0,3; round 1 (3 wanted): 5,6,7 keeps 6.
    assertEquals(List.of(0, 3, 6), r.kept());
    assertEquals(2, r.rounds());
    assertFalse(r.full());
  }

  @Test
  void emptyRoundStopsTheLoop() {
    Source src = new Source(5, 0);
    BatchFiller.FillResult<Integer> r = BatchFiller.fill(4, 100, src, MULTIPLES_OF_THREE);
    // round 0: 0..3 keeps 0,3; round 1: 4 (only one left of 2 wanted); round 2: empty → exhausted.
    assertEquals(List.of(0, 3), r.kept());
    assertEquals(3, r.rounds());
    assertEquals(5, r.groupsDrawn());
    assertTrue(r.exhausted());
    assertFalse(r.full());
  }

  @Test
  void predicateVariantCountsRejections() {
    BatchFiller.FillResult<Integer> r = BatchFiller.fillWhere(2, 10, new Source(100, 0), g -> g >= 3);
    assertEquals(List.of(3, 4), r.kept());
    assertEquals(Map.of(BatchFiller.REJECTED, 3), r.dropReasons());
  }

  @Test
  void invalidArgumentsAreClearErrors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchFiller.fill(0, 3, new Source(10, 0), g -> Decision.KEEP));
    assertTrue(e.getMessage().contains("targetGroups") && e.getMessage().contains("0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BatchFiller.fill(2, 0, new Source(10, 0), g -> Decision.KEEP));
    assertTrue(e.getMessage().contains("maxRounds"), e.getMessage());
    assertThrows(IllegalStateException.class,
        () -> BatchFiller.fill(2, 3, (i, n) -> null, g -> Decision.KEEP));
  }
}
