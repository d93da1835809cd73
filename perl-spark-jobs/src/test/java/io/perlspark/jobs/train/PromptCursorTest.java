package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptCursorTest {
  static List<String> ids(String prefix, int n) {
    List<String> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(prefix + i);
    }
    return l;
  }

  static List<String> draw(PromptCursor c, int steps, int batch) {
    List<String> all = new ArrayList<>();
    for (int s = 0; s < steps; s++) {
      c.startStep();
      all.addAll(c.next(batch));
    }
    return all;
  }

  @Test
  void sameSeedSameDrawsAndEachEpochCoversEveryPrompt() {
    PromptCursor a = new PromptCursor(1, List.of(ids("a", 10)), new double[] {1});
    PromptCursor b = new PromptCursor(1, List.of(ids("a", 10)), new double[] {1});
    List<String> da = draw(a, 5, 4);
    assertEquals(da, draw(b, 5, 4));
    assertEquals(10, new HashSet<>(da.subList(0, 10)).size(), "the first epoch is a permutation of all ids");
    assertNotEquals(da, draw(new PromptCursor(2, List.of(ids("a", 10)), new double[] {1}), 5, 4));
  }

  @Test
  void restoredCursorContinuesExactly() {
    PromptCursor a = new PromptCursor(7, List.of(ids("a", 13), ids("b", 5)), new double[] {3, 1});
    draw(a, 3, 4);
    PromptCursor b = new PromptCursor(7, List.of(ids("a", 13), ids("b", 5)), new double[] {3, 1});
    b.restore(a.state());
    assertEquals(draw(a, 10, 4), draw(b, 10, 4));
  }

  @Test
  void aStepNeverDrawsAPromptTwiceEvenAcrossAnEpochBoundary() {
    PromptCursor c = new PromptCursor(3, List.of(ids("a", 5)), new double[] {1});
    for (int s = 0; s < 20; s++) {
      c.startStep();
      List<String> step = new ArrayList<>(c.next(3));
      step.addAll(c.next(2));
      assertEquals(5, new HashSet<>(step).size(), "step " + s + ": " + step);
    }
    c.startStep();
    c.next(4);
    assertThrows(IllegalArgumentException.class, () -> c.next(2));
  }

  @Test
  void mixWeightsSetTheShareOfEachSource() {
    PromptCursor c = new PromptCursor(5, List.of(ids("a", 1000), ids("b", 1000)), new double[] {3, 1});
    List<String> d = draw(c, 100, 40);
    long fromA = d.stream().filter(s -> s.startsWith("a")).count();
    // 4000 draws at p = 0.75: sd 27; allow 5 sd.
    assertTrue(Math.abs(fromA - 3000) < 140, "draws from a: " + fromA);
  }
}
