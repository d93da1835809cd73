package io.perlspark.common.rl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OfflineDifficultyFilterTest {

  @Test
  void defaultsDropAlwaysAndNeverSolved() {
    OfflineDifficultyFilter f = OfflineDifficultyFilter.defaults();
    assertFalse(f.keep(0.0));
    assertFalse(f.keep(1.0));
    assertTrue(f.keep(0.1));
    assertTrue(f.keep(0.9));
    assertFalse(f.keep(0, 10));
    assertFalse(f.keep(10, 10));
    assertTrue(f.keep(1, 10));
    assertTrue(f.keep(9, 10));
  }

  @Test
  void inclusiveKeepsTheBounds() {
    OfflineDifficultyFilter inclusive = new OfflineDifficultyFilter(0.2, 0.8, true);
    assertTrue(inclusive.keep(0.2));
    assertTrue(inclusive.keep(0.8));
    assertFalse(inclusive.keep(0.1));
    assertFalse(inclusive.keep(0.9));
    OfflineDifficultyFilter exclusive = new OfflineDifficultyFilter(0.2, 0.8);
    assertFalse(exclusive.keep(0.2));
    assertFalse(exclusive.keep(0.8));
    assertTrue(exclusive.keep(0.5));
    assertTrue(new OfflineDifficultyFilter(0.0, 1.0, true).keep(1, 1));
  }

  @Test
  void invalidInputsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new OfflineDifficultyFilter(0.6, 0.4));
    assertThrows(IllegalArgumentException.class, () -> new OfflineDifficultyFilter(-0.1, 0.4));
    assertThrows(IllegalArgumentException.class, () -> new OfflineDifficultyFilter(0.1, Double.NaN));
    OfflineDifficultyFilter f = OfflineDifficultyFilter.defaults();
    assertThrows(IllegalArgumentException.class, () -> f.keep(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> f.keep(1.5));
    assertThrows(IllegalArgumentException.class, () -> f.keep(3, 2));
    assertThrows(IllegalArgumentException.class, () -> f.keep(0, 0));
  }
}
