package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * A scalar operand that autograd saves for the backward pass must outlive the GC: gradients are
 * computed after the GC has had every chance to free (and the allocator to reuse) Java buffers.
 */
public class ConstantsTest {
  /** Frees unreachable direct buffers and fills what the allocator hands out next with junk. */
  public static void churn() {
    for (int round = 0; round < 5; round++) {
      System.gc();
      try {
        Thread.sleep(20); // the Cleaner thread frees direct memory after the GC
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (int i = 0; i < 2000; i++) {
        ByteBuffer junk = ByteBuffer.allocateDirect(4 + (i % 8) * 4);
        while (junk.hasRemaining()) {
          junk.put((byte) 0x7f);
        }
      }
    }
  }

  static float[] gradient(boolean viaConstants) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new float[] {1f, -2f, 3f});
      x.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = viaConstants ? x.mul(Constants.scalar(x, 0.125)) : x.mul(0.125f);
        NDArray z = y.maximum(viaConstants ? Constants.scalar(y, -1.0) : m.create(-1f)).sum();
        churn();
        gc.backward(z);
      }
      return x.getGradient().toFloatArray();
    }
  }

  @Test
  void aSavedScalarOperandSurvivesGarbageCollection() {
    for (int rep = 0; rep < 3; rep++) {
      float[] g = gradient(true);
      for (float v : g) {
        assertEquals(0.125f, v, "d(max(0.125 x, -1))/dx at x in {1, -2, 3}");
      }
    }
  }

  @Test
  void scalarHasTheTypeOfItsModel() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray f64 = m.create(new double[] {1.0});
      NDArray c = Constants.scalar(f64, 0.1);
      assertEquals(f64.getDataType(), c.getDataType());
      assertEquals(0.1, c.getDouble(), 0.0);
    }
  }

  /** Shows the DJL behaviour Constants avoids (not an assertion on our code): run by hand. */
  public static void main(String[] args) {
    int bad = 0;
    for (int rep = 0; rep < 20; rep++) {
      float[] g = gradient(false);
      if (g[0] != 0.125f) {
        bad++;
        System.out.println("x.mul(Number): gradient " + java.util.Arrays.toString(g));
      }
    }
    System.out.println(bad + " of 20 gradients through x.mul(Number) were wrong");
  }
}
