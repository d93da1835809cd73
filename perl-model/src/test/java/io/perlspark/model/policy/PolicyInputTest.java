package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PolicyInputTest {
  private static final float[] A = {1f};
  private static final float[] B = {2f, 2f};
  private static final float[] C = {3f, 3f, 3f};

  @Test
  void fixedSizeInputsHaveNoGrids() {
    PolicyInput in = new PolicyInput(new int[] {4, 4}, new float[][] {A, B});
    assertFalse(in.hasImageGrids());
    assertEquals(0, in.imageGrids().length);
    assertEquals(in, new PolicyInput(new int[] {4, 4}, new float[][] {A, B}, null));
  }

  @Test
  void reorderingMovesImagesAndTheirGridsTogether() {
    int[][] grids = {{1, 2, 2}, {1, 4, 6}, {1, 8, 8}};
    PolicyInput in = new PolicyInput(new int[] {9, 9, 9}, new float[][] {A, B, C}, grids);
    PolicyInput moved = in.withImageOrder(new int[] {2, 0, 1});
    assertSame(C, moved.images()[0]);
    assertSame(A, moved.images()[1]);
    assertSame(B, moved.images()[2]);
    assertArrayEquals(new int[] {1, 8, 8}, moved.imageGrids()[0]);
    assertArrayEquals(new int[] {1, 2, 2}, moved.imageGrids()[1]);
    assertArrayEquals(new int[] {1, 4, 6}, moved.imageGrids()[2]);
    assertArrayEquals(in.promptTokens(), moved.promptTokens());
    assertEquals(in, moved.withImageOrder(new int[] {1, 2, 0}));
  }

  @Test
  void gridsTakePartInEquality() {
    PolicyInput a = new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{1, 2, 2}});
    PolicyInput b = new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{1, 2, 4}});
    assertNotEquals(a, b);
    assertNotEquals(a, new PolicyInput(new int[] {9}, new float[][] {A}));
    assertEquals(a, new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{1, 2, 2}}));
    assertEquals(a.hashCode(),
        new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{1, 2, 2}}).hashCode());
  }

  @Test
  void badGridsAreRefused() {
    IllegalArgumentException count =
        assertThrows(IllegalArgumentException.class,
            () -> new PolicyInput(new int[] {9, 9}, new float[][] {A, B}, new int[][] {{1, 2, 2}}));
    assertTrue(count.getMessage().contains("2 images but 1 image grids"), count.getMessage());
    IllegalArgumentException shape =
        assertThrows(IllegalArgumentException.class,
            () -> new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{2, 2}}));
    assertTrue(shape.getMessage().contains("expected (t, h, w)"), shape.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new PolicyInput(new int[] {9}, new float[][] {A}, new int[][] {{1, 0, 2}}));
    assertThrows(IllegalArgumentException.class,
        () -> new PolicyInput(new int[] {9}, new float[][] {A}).withImageOrder(new int[] {0, 0}));
  }
}
