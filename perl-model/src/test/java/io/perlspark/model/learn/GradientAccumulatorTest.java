package io.perlspark.model.learn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

class GradientAccumulatorTest {
  @Test
  void sumsGradientsAndCounts() {
    float[] g1 = {1, 2, 3};
    GradientAccumulator a = new GradientAccumulator().add(g1, 2, 10).add(new float[] {0.5f, 0, -3}, 1, 4);
    assertArrayEquals(new float[] {1.5f, 2, 0}, a.sum());
    assertArrayEquals(new float[] {1, 2, 3}, g1, "the caller's first array is not modified");
    assertEquals(3, a.samples());
    assertEquals(14, a.tokens());
    assertEquals(2, a.parts());
  }

  @Test
  void mergeIsAssociativeWithEmptyAsIdentity() throws Exception {
    // Values exact in float, so any grouping gives the same bits (as treeAggregate may group them).
    GradientAccumulator x = new GradientAccumulator().add(new float[] {1, 0.5f}, 1, 3);
    GradientAccumulator y = new GradientAccumulator().add(new float[] {2, 0.25f}, 2, 5);
    GradientAccumulator z = new GradientAccumulator().add(new float[] {-4, 8}, 3, 7);
    GradientAccumulator left = copy(x).merge(copy(y)).merge(copy(z));
    GradientAccumulator right = copy(x).merge(copy(y).merge(copy(z)));
    GradientAccumulator withEmpty = new GradientAccumulator().merge(copy(x)).merge(new GradientAccumulator()).merge(copy(y)).merge(copy(z));
    for (GradientAccumulator r : new GradientAccumulator[] {right, withEmpty}) {
      assertArrayEquals(left.sum(), r.sum());
      assertEquals(left.samples(), r.samples());
      assertEquals(left.tokens(), r.tokens());
    }
    assertArrayEquals(new float[] {-1, 8.75f}, left.sum());
    assertTrue(new GradientAccumulator().isEmpty());
    assertNull(GradientAccumulator.merge(null, null));
    assertThrows(IllegalArgumentException.class, () -> GradientAccumulator.merge(new float[2], new float[3]));
  }

  /** A Java-serialisation round trip, as Spark does between executors and the driver. */
  private static GradientAccumulator copy(GradientAccumulator a) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(a);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (GradientAccumulator) in.readObject();
    }
  }
}
