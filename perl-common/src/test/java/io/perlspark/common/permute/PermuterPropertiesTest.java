package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.Answers;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.statistics.Statistics;

/**
 * For random samples, selections, seeds and steps: every permuted copy is a faithful
 * re-ordering whose answer still points at the same image(s).
 */
class PermuterPropertiesTest {

  @Provide
  Arbitrary<AnswerKind> kinds() {
    return Arbitraries.of(AnswerKind.values());
  }

  @Provide
  Arbitrary<SlotSelection> selections() {
    return Arbitraries.oneOf(
        Arbitraries.just(SlotSelection.all()),
        Arbitraries.integers().between(0, 2).map(SlotSelection::skipFirst),
        Arbitraries.integers().between(0, 6).set().ofMinSize(2).ofMaxSize(5)
            .map(s -> SlotSelection.of(s.stream().mapToInt(Integer::intValue).toArray())));
  }

  @Property(tries = 300)
  void permutedCopiesAreFaithful(
      @ForAll @IntRange(min = 2, max = 6) int imageCount,
      @ForAll("kinds") AnswerKind kind,
      @ForAll boolean orderSensitive,
      @ForAll("selections") SlotSelection selection,
      @ForAll long seed,
      @ForAll @LongRange(min = 0, max = 99) long step,
      @ForAll @IntRange(min = 1, max = 3) int copies,
      @ForAll @IntRange(min = 0, max = 1_000_000) int idNumber) {
    Sample original = sampleWithAnswer("s" + idNumber, imageCount, kind, orderSensitive, selection, new SplittableRandom(seed));
    Permuter permuter = Permuter.builder().setSeed(seed).optCopies(copies).optSlots(selection)
        .optSchedule(DecaySchedule.constant(1)).build();
    List<PermutedSample> group = permuter.expand(original, step, 100);

    boolean eligible = PermutationEligibility.check(original, selection).isPermutable();
    Statistics.label("eligible").collect(eligible);
    Statistics.label("eligible").coverage(c -> c.check(true).percentage(pct -> pct > 30));
    assertEquals(eligible ? 1 + copies : 1, group.size());
    int[] movable = selection.slotsFor(imageCount);
    for (PermutedSample ps : group.subList(1, group.size())) {
      Sample copy = ps.sample();
      int[] order = ps.order();
      assertFalse(Permutations.isIdentity(order), "copy with identity order");
      assertEquals(Fixtures.multiset(original.images()), Fixtures.multiset(copy.images()));
      assertEquals(original.prompt(), copy.prompt());
      assertEquals(Sample.countPlaceholders(original.prompt()), Sample.countPlaceholders(copy.prompt()));
      for (int j = 0; j < imageCount; j++) {
        assertEquals(original.images().get(order[j]), copy.images().get(j));
        int slot = j;
        if (Arrays.stream(movable).noneMatch(m -> m == slot)) {
          assertEquals(j, order[j], "slot " + j + " is not movable under " + selection);
        }
      }
      assertAnswerPointsAtTheSameImages(original, copy);
    }
  }

  /** Picks a valid answer for the kind; option slots cover the movable slots so the option stays remappable. */
  private static Sample sampleWithAnswer(String id, int n, AnswerKind kind, boolean orderSensitive,
      SlotSelection selection, SplittableRandom rnd) {
    List<Integer> optionSlots = List.of();
    String answer;
    switch (kind) {
      case IMAGE_INDEX -> answer = Integer.toString(1 + rnd.nextInt(n));
      case ORDERING -> {
        List<Integer> idx = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          idx.add(i);
        }
        Collections.shuffle(idx, new Random(rnd.nextLong()));
        answer = String.join(" > ", idx.subList(0, 1 + rnd.nextInt(n)).stream().map(String::valueOf).toList());
      }
      case OPTION_LETTER -> {
        List<Integer> slots = new ArrayList<>();
        for (int s = n - 1; s >= 0; s--) {
          slots.add(s); // options bound to every slot, in reverse so option != slot
        }
        optionSlots = slots;
        answer = String.valueOf((char) ('A' + rnd.nextInt(n)));
      }
      case NUMBER -> answer = "3/4";
      case YES_NO -> answer = "yes";
      case TEXT -> answer = "red circle";
      default -> throw new AssertionError(kind);
    }
    return Fixtures.sample(id, n, kind, answer, orderSensitive, optionSlots);
  }

  private static void assertAnswerPointsAtTheSameImages(Sample original, Sample copy) {
    if (!original.orderSensitive()) {
      assertEquals(original.answer(), copy.answer());
      return;
    }
    switch (original.answerKind()) {
      case IMAGE_INDEX -> assertEquals(image(original, Answers.parseIndex(original.answer()) - 1),
          image(copy, Answers.parseIndex(copy.answer()) - 1));
      case ORDERING -> {
        int[] before = Answers.parseIndexSequence(original.answer());
        int[] after = Answers.parseIndexSequence(copy.answer());
        assertEquals(before.length, after.length);
        assertEquals(Answers.formatIndexSequence(after), copy.answer(), "canonical form");
        for (int i = 0; i < before.length; i++) {
          assertEquals(image(original, before[i] - 1), image(copy, after[i] - 1));
        }
      }
      case OPTION_LETTER -> {
        List<Integer> slots = original.optionImageSlots();
        assertEquals(image(original, slots.get(Answers.parseOptionLetter(original.answer()) - 'A')),
            image(copy, slots.get(Answers.parseOptionLetter(copy.answer()) - 'A')));
      }
      default -> assertEquals(original.answer(), copy.answer());
    }
    assertTrue(copy.answer() != null && !copy.answer().isBlank());
  }

  private static ImageRef image(Sample s, int slot) {
    return s.images().get(slot);
  }
}
