package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PermutationsTest {

  @Test
  void allEnumeratesEveryOrderOfTheMovableSlotsOnly() {
    List<int[]> all = Permutations.all(4, new int[] {1, 2, 3});
    assertEquals(6, all.size());
    assertArrayEquals(new int[] {0, 1, 2, 3}, all.get(0));
    Set<String> distinct = new HashSet<>();
    for (int[] o : all) {
      assertEquals(0, o[0]); // slot 0 is not movable
      distinct.add(Arrays.toString(o));
    }
    assertEquals(6, distinct.size());
    assertEquals(5, Permutations.nonIdentity(4, new int[] {1, 2, 3}).size());
  }

  @Test
  void sampleGivesDistinctOrdersIdentityFirstAndIsSeeded() {
    int[] slots = {0, 1, 2, 3, 4, 5};
    List<int[]> a = Permutations.sample(6, slots, 20, 7L, "s1");
    assertEquals(20, a.size());
    assertTrue(Permutations.isIdentity(a.get(0)));
    Set<String> distinct = new HashSet<>();
    a.forEach(o -> distinct.add(Arrays.toString(o)));
    assertEquals(20, distinct.size());
    List<int[]> again = Permutations.sample(6, slots, 20, 7L, "s1");
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), again.get(i));
    }
    List<int[]> other = Permutations.sample(6, slots, 20, 7L, "s2");
    assertFalse(Arrays.deepEquals(a.toArray(), other.toArray()));
  }

  @Test
  void sampleReturnsAllOrdersWhenTheBudgetCoversThem() {
    List<int[]> a = Permutations.sample(3, new int[] {0, 1, 2}, 100, 1L, "x");
    assertEquals(6, a.size());
    assertTrue(Permutations.isIdentity(a.get(0)));
    Set<String> distinct = new HashSet<>();
    a.forEach(o -> distinct.add(Arrays.toString(o)));
    assertEquals(6, distinct.size());
    assertEquals(4, Permutations.sample(3, new int[] {0, 1, 2}, 4, 1L, "x").size());
  }

  @Test
  void badSlotsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Permutations.all(3, new int[] {0, 3}));
    assertThrows(IllegalArgumentException.class, () -> Permutations.all(3, new int[] {1, 1}));
    assertThrows(IllegalArgumentException.class, () -> Permutations.all(12, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
}
