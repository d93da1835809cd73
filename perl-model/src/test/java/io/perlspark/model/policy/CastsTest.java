package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class CastsTest {
  /** DJL's toType would cut the graph here ("element 0 of tensors does not require grad"). */
  @Test
  void gradientsFlowThroughAHalfPrecisionRoundTrip() {
    synchronized (Engines.TRAINING_LOCK) {
      try (NDManager m = NDManager.newBaseManager(Device.cpu());
          GradientCollector gc = Engines.engine().newGradientCollector()) {
        NDArray a = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)).duplicate();
        a.setRequiresGradient(true);
        NDArray b = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)).duplicate();
        NDArray half = Casts.to(a.mul(b), DataType.FLOAT16);
        assertEquals(DataType.FLOAT16, half.getDataType());
        NDArray loss = Casts.to(half.mul(half), DataType.FLOAT32).sum();
        gc.backward(loss);
        try (NDArray g = a.getGradient()) {
          assertEquals(DataType.FLOAT32, g.getDataType());
          // d/da (a b)^2 = 2 a b^2 (all exact in float16)
          assertArrayEquals(new float[] {2, 16, 54, 128, 250, 432}, g.toFloatArray());
        }
      }
    }
  }

  @Test
  void sameTypeIsTheArrayItself() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray a = m.zeros(new Shape(2));
      assertSame(a, Casts.to(a, DataType.FLOAT32));
    }
  }
}
