package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import org.junit.jupiter.api.Test;

class DecayScheduleTest {
  private static final double EPS = 1e-12;

  @Test
  void linearAtStartMiddleEndAndBeyond() {
    DecaySchedule s = DecaySchedule.linear(0.8, 0.1);
    assertEquals(0.8, s.probability(0, 100), EPS);
    assertEquals(0.4, s.probability(50, 100), EPS);
    assertEquals(0.1, s.probability(90, 100), EPS); // 0.08 floored at pMin
    assertEquals(0.1, s.probability(100, 100), EPS);
    assertEquals(0.1, s.probability(1000, 100), EPS);
  }

  @Test
  void paperDefaultIsOneMinusProgress() {
    DecaySchedule s = DecaySchedule.linear(1, 0);
    assertEquals(0.75, s.probability(25, 100), EPS);
    assertEquals(0.0, s.probability(100, 100), EPS);
  }

  @Test
  void expAtStartMiddleEndAndBeyond() {
    DecaySchedule s = DecaySchedule.exp(1.0, 0.01, 3.0);
    assertEquals(1.0, s.probability(0, 10), EPS);
    assertEquals(Math.exp(-1.5), s.probability(5, 10), EPS);
    assertEquals(Math.exp(-3.0), s.probability(10, 10), EPS);
    assertEquals(0.01, s.probability(11, 10), EPS);
    assertEquals(0.2, DecaySchedule.exp(1.0, 0.2, 10).probability(10, 10), EPS);
  }

  @Test
  void powAtStartMiddleEndAndBeyond() {
    DecaySchedule s = DecaySchedule.pow(1.0, 0.0, 2.0);
    assertEquals(1.0, s.probability(0, 10), EPS);
    assertEquals(0.25, s.probability(5, 10), EPS);
    assertEquals(0.0, s.probability(10, 10), EPS);
    assertEquals(0.0, s.probability(20, 10), EPS);
    assertEquals(0.3, DecaySchedule.pow(1.0, 0.3, 0.5).probability(20, 10), EPS);
  }

  @Test
  void constantNeverDecays() {
    DecaySchedule s = DecaySchedule.constant(0.3);
    assertEquals(0.3, s.probability(0, 10), EPS);
    assertEquals(0.3, s.probability(5, 10), EPS);
    assertEquals(0.3, s.probability(10, 10), EPS);
    assertEquals(0.3, s.probability(99, 10), EPS);
  }

  @Test
  void valuesAreClampedToUnitInterval() {
    assertEquals(1.0, DecaySchedule.constant(1.7).probability(0, 10), EPS);
    assertEquals(0.0, DecaySchedule.constant(-0.5).probability(0, 10), EPS);
    assertEquals(1.0, DecaySchedule.linear(2.0, 0).probability(1, 10), EPS);
  }

  @Test
  void parseByNameWithClearErrors() {
    assertEquals(DecaySchedule.linear(1, 0), DecaySchedule.parse("linear", 1, 0, 5, 2));
    assertEquals(DecaySchedule.exp(1, 0, 5), DecaySchedule.parse(" EXP", 1, 0, 5, 2));
    assertEquals(DecaySchedule.pow(1, 0, 2), DecaySchedule.parse("pow", 1, 0, 5, 2));
    assertEquals(DecaySchedule.constant(0.5), DecaySchedule.parse("constant", 0.5, 0, 5, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DecaySchedule.parse("cosine", 1, 0, 1, 1));
    assertTrue(e.getMessage().contains("'cosine'") && e.getMessage().contains("linear, exp, pow, constant"),
        e.getMessage());
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> DecaySchedule.linear(1, 0).probability(1, 0));
    assertThrows(IllegalArgumentException.class, () -> DecaySchedule.linear(1, 0).probability(-1, 10));
    assertThrows(IllegalArgumentException.class, () -> DecaySchedule.exp(1, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> DecaySchedule.pow(1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> DecaySchedule.linear(Double.NaN, 0));
  }

  /** The permuter's coin must fall with probability p(step): checked at p = 0.3 and at p = 0.5 mid-schedule. */
  @Test
  void coinFrequencyMatchesProbability() {
    assertCoinRate(Permuter.builder().setSeed(11).optSchedule(DecaySchedule.constant(0.3)).build(), 0, 0.3);
    assertCoinRate(Permuter.builder().setSeed(11).optSchedule(DecaySchedule.linear(1, 0)).build(), 50, 0.5);
    assertCoinRate(Permuter.builder().setSeed(11).optSchedule(DecaySchedule.linear(1, 0)).build(), 100, 0.0);
  }

  private static void assertCoinRate(Permuter permuter, long step, double p) {
    int n = 4000;
    int hits = 0;
    for (int i = 0; i < n; i++) {
      Sample s = Fixtures.sample("coin-" + i, 3, AnswerKind.IMAGE_INDEX, "1", true);
      if (permuter.expand(s, step, 100).size() > 1) {
        hits++;
      }
    }
    // Binomial sd = sqrt(p(1-p)/n) <= 0.0079; 0.035 is > 4 sd, and the seed is fixed.
    assertEquals(p, hits / (double) n, 0.035, "coin rate at step " + step);
  }
}
