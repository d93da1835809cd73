package io.perlspark.model.learn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FlatParametersTest {
  static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  static Linear linear(int in, int out, DataType dt) {
    Linear l = Linear.builder().setUnits(out).build();
    l.initialize(manager, dt, new Shape(1, in));
    return l;
  }

  @Test
  void valuesRoundTripInPlaceInBlockOrder() {
    for (DataType dt : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
      Linear l = linear(3, 2, dt);
      List<Parameter> ps = FlatParameters.trainable(l);
      assertEquals(List.of("weight", "bias"), ps.stream().map(Parameter::getName).toList());
      assertEquals(8, FlatParameters.size(ps));
      NDArray weightBefore = ps.get(0).getArray();
      float[] v = new float[8];
      for (int i = 0; i < v.length; i++) {
        v[i] = 0.25f * i - 1;
      }
      FlatParameters.setValues(ps, v);
      assertSame(weightBefore, ps.get(0).getArray(), "updated in place");
      assertTrue(weightBefore.hasGradient(), "still a gradient leaf");
      assertArrayEquals(v, FlatParameters.values(ps));
      // weight is [2, 3] row-major, then bias [2]
      assertEquals(0.25f * 4 - 1, ps.get(0).getArray().toType(DataType.FLOAT32, false).getFloat(1, 1));
      assertEquals(0.25f * 7 - 1, ps.get(1).getArray().toType(DataType.FLOAT32, false).getFloat(1));
    }
  }

  @Test
  void gradientsAreExportedAccumulateAcrossBackwardAndCanBeZeroed() {
    Linear used = linear(3, 2, DataType.FLOAT32);
    Linear unused = linear(3, 2, DataType.FLOAT32);
    List<Parameter> ps = new ArrayList<>(FlatParameters.trainable(used));
    ps.addAll(FlatParameters.trainable(unused));
    ParameterStore store = new ParameterStore(manager, false);
    NDArray x = manager.create(new float[] {1, 2, 3, -1, 0, 0.5f}, new Shape(2, 3));
    FlatParameters.zeroGradients(ps);
    for (int rep = 0; rep < 2; rep++) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(used.forward(store, new NDList(x), true).singletonOrThrow().sum());
      }
    }
    float[] g = FlatParameters.gradients(ps);
    assertEquals(16, g.length);
    // d Σ(xW^T + b) / dW[j, k] = Σ_n x[n, k]; two backward passes accumulate: 2×.
    float[] onePassWeight = {0, 2, 3.5f, 0, 2, 3.5f};
    for (int i = 0; i < 6; i++) {
      assertEquals(2 * onePassWeight[i], g[i], 1e-6);
    }
    assertEquals(4f, g[6], 1e-6); // bias: 2 rows × 2 passes
    assertEquals(4f, g[7], 1e-6);
    for (int i = 8; i < 16; i++) {
      assertEquals(0f, g[i], "a parameter outside the graph has zero gradient");
    }
    assertArrayEquals(ps.get(0).getArray().getGradient().toFloatArray(), slice(g, 0, 6));
    FlatParameters.zeroGradients(ps);
    for (float v : FlatParameters.gradients(ps)) {
      assertEquals(0f, v);
    }
  }

  /**
   * Zeroing clears NaN and inf, and leaves PyTorch's gradient in PyTorch's memory: gradients zeroed,
   * then garbage-collected Java buffers recycled, must still accumulate exactly one backward pass.
   */
  @Test
  void zeroingClearsNonFiniteGradientsAndSurvivesGarbageCollection() {
    Linear used = linear(64, 64, DataType.FLOAT32);
    List<Parameter> ps = FlatParameters.trainable(used);
    ParameterStore store = new ParameterStore(manager, false);
    float[] ones = new float[64];
    java.util.Arrays.fill(ones, 1f);
    float[] nanRow = ones.clone();
    nanRow[5] = Float.NaN;
    try (NDArray bad = manager.create(nanRow, new Shape(1, 64));
        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(used.forward(store, new NDList(bad), true).singletonOrThrow().sum());
    }
    assertTrue(Float.isNaN(FlatParameters.gradients(ps)[5]));
    for (int round = 0; round < 5; round++) {
      FlatParameters.zeroGradients(ps);
      for (int i = 0; i < 20; i++) {
        System.gc();
        java.nio.ByteBuffer junk = java.nio.ByteBuffer.allocateDirect(64 * 64 * 4);
        while (junk.hasRemaining()) {
          junk.put((byte) 0x7f);
        }
      }
      try (NDArray x = manager.create(ones, new Shape(1, 64));
          GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(used.forward(store, new NDList(x), true).singletonOrThrow().sum());
      }
      // d Σ(xW^T + b) / dW = 1 everywhere for x = 1; the bias gradient is 1 too.
      for (float g : FlatParameters.gradients(ps)) {
        assertEquals(1f, g, "round " + round);
      }
    }
  }

  @Test
  void wrongLengthIsRejected() {
    List<Parameter> ps = FlatParameters.trainable(linear(3, 2, DataType.FLOAT32));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FlatParameters.setValues(ps, new float[7]));
    assertTrue(e.getMessage().contains("7 values, the parameters need 8"), e.getMessage());
  }

  private static float[] slice(float[] a, int from, int to) {
    float[] out = new float[to - from];
    System.arraycopy(a, from, out, 0, out.length);
    return out;
  }
}
