package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PermuterTest {

  private static Permuter always(long seed, int copies) {
    return Permuter.builder().setSeed(seed).optCopies(copies).optSchedule(DecaySchedule.constant(1)).build();
  }

  @Test
  void groupHasTheOriginalFirstThenKCopiesWithIdsAndOneGroupId() {
    Sample s = Fixtures.sample("q7", 4, AnswerKind.IMAGE_INDEX, "2", true);
    List<PermutedSample> group = always(1, 3).expand(s, 12, 100);
    assertEquals(4, group.size());
    PermutedSample first = group.get(0);
    assertEquals(s, first.sample());
    assertTrue(first.isOriginal());
    assertArrayEquals(new int[] {0, 1, 2, 3}, first.order());
    for (int c = 0; c < group.size(); c++) {
      PermutedSample ps = group.get(c);
      assertEquals(c, ps.copy());
      assertEquals("q7@12", ps.groupId());
      assertEquals("q7", ps.originalId());
      assertEquals(c == 0 ? "q7" : "q7#p" + c, ps.sample().id());
    }
  }

  @Test
  void zeroCopiesOrZeroProbabilityGivesTheOriginalOnly() {
    Sample s = Fixtures.sample("q", 3, AnswerKind.IMAGE_INDEX, "2", true);
    assertEquals(1, always(1, 0).expand(s, 0, 10).size());
    Permuter never = Permuter.builder().setSeed(1).optSchedule(DecaySchedule.constant(0)).build();
    assertEquals(1, never.expand(s, 0, 10).size());
    Permuter linear = Permuter.builder().setSeed(1).build(); // p = 1 - step/total
    assertEquals(1, linear.expand(s, 10, 10).size());
  }

  /**
   * With 3 movable images there are 5 non-identity orders; over 3000 sample ids each must come up
   * about 600 times. Chi-square with 4 degrees of freedom: 18.47 is the 0.1% critical value. The
   * seed is fixed, so the test is deterministic; the bound only has to reject a biased sampler
   * (e.g. one permutation per image count gives chi-square = 12000).
   */
  @Test
  void permutationsAreUniformOverNonIdentityOrdersAcrossSamples() {
    Permuter p = always(2024, 1);
    Map<String, Integer> counts = new HashMap<>();
    int n = 3000;
    for (int i = 0; i < n; i++) {
      Sample s = Fixtures.sample("sample-" + i, 3, AnswerKind.IMAGE_INDEX, "1", true);
      counts.merge(Arrays.toString(p.expand(s, 5, 100).get(1).order()), 1, Integer::sum);
    }
    assertEquals(5, counts.size(), counts.toString());
    assertFalse(counts.containsKey("[0, 1, 2]"));
    double expected = n / 5.0;
    double chi2 = 0;
    for (int c : counts.values()) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    assertTrue(chi2 < 18.47, "chi-square " + chi2 + " for " + counts);
  }

  @Test
  void identicalInputsGiveIdenticalOutputs() {
    Sample s = Fixtures.sample("det", 5, AnswerKind.ORDERING, "5,4,3,2,1", true);
    assertEquals(always(9, 3).expand(s, 4, 10), always(9, 3).expand(s, 4, 10));
  }

  @Test
  void aDifferentStepOrSeedGivesDifferentPermutations() {
    Permuter a = always(9, 1);
    Permuter b = always(10, 1);
    int differByStep = 0;
    int differBySeed = 0;
    for (int i = 0; i < 50; i++) {
      Sample s = Fixtures.sample("d" + i, 5, AnswerKind.IMAGE_INDEX, "1", true);
      int[] base = a.expand(s, 4, 10).get(1).order();
      differByStep += Arrays.equals(base, a.expand(s, 5, 10).get(1).order()) ? 0 : 1;
      differBySeed += Arrays.equals(base, b.expand(s, 4, 10).get(1).order()) ? 0 : 1;
    }
    // 119 non-identity orders of 5 slots: a repeat has probability 1/119 per sample.
    assertTrue(differByStep >= 45, "only " + differByStep + " of 50 differ across steps");
    assertTrue(differBySeed >= 45, "only " + differBySeed + " of 50 differ across seeds");
  }

  @Test
  void oneCoinPerSampleAndStepDecidesForAllCopies() {
    Permuter p = Permuter.builder().setSeed(5).optCopies(3).optSchedule(DecaySchedule.constant(0.5)).build();
    int withCopies = 0;
    for (int i = 0; i < 200; i++) {
      int size = p.expand(Fixtures.sample("c" + i, 3, AnswerKind.IMAGE_INDEX, "1", true), 0, 10).size();
      assertTrue(size == 1 || size == 4, "group of " + size);
      withCopies += size == 4 ? 1 : 0;
    }
    assertTrue(withCopies > 60 && withCopies < 140, withCopies + " of 200");
  }

  @Test
  void staticApplyReordersImagesAndRemapsWithoutChangingTheId() {
    Sample s = Fixtures.sample("e", 3, AnswerKind.IMAGE_INDEX, "3", true);
    Sample t = Permuter.apply(s, new int[] {2, 0, 1});
    assertEquals("e", t.id());
    assertEquals(List.of(s.images().get(2), s.images().get(0), s.images().get(1)), t.images());
    assertEquals("1", t.answer());
    assertEquals(s.prompt(), t.prompt());
  }

  @Test
  void builderNeedsASeedAndRejectsNegativeCopies() {
    assertThrows(IllegalStateException.class, () -> Permuter.builder().build());
    assertThrows(IllegalArgumentException.class, () -> Permuter.builder().setSeed(1).optCopies(-1).build());
    assertEquals(SlotSelection.skipFirst(1), Permuter.builder().setSeed(1).optSlots("skip-first:1").build().config().slots());
  }

  @Test
  void permuterAndItsOutputSurviveJavaSerialization() throws Exception {
    Permuter p = Permuter.builder().setSeed(3).optSlots("list:0,2").optSchedule(DecaySchedule.exp(1, 0.1, 2)).build();
    Permuter back = roundTrip(p);
    Sample s = Fixtures.sample("ser", 3, AnswerKind.IMAGE_INDEX, "1", true);
    List<PermutedSample> expected = p.expand(s, 0, 10);
    assertEquals(expected, back.expand(s, 0, 10));
    assertEquals(expected.get(expected.size() - 1), roundTrip(expected.get(expected.size() - 1)));
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T o) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
