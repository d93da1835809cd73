package io.perlspark.model.learn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class AdamWTest {
  static final float[] P0 = {0.5f, -1.0f, 2.0f, 0.0f};
  static final float[][] GRADS = {{0.1f, -0.2f, 0.3f, 0.0f}, {-0.05f, 0.4f, 0.1f, 1e-3f}, {0.2f, 0.2f, -0.3f, -2.0f}};
  static final double[] LRS = {1e-2, 5e-3, 2e-3};

  @Test
  void firstStepByHand() {
    // Step 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so p ← p(1 − lr·λ) − lr·g/(|g| + ε).
    float[] p = P0.clone();
    new AdamW(0.9, 0.999, 1e-8, 0.1).step(p, GRADS[0].clone(), 0.01);
    assertEquals(0.5 * (1 - 0.001) - 0.01 * 0.1 / (0.1 + 1e-8), p[0], 1e-7);
    assertEquals(-1.0 * (1 - 0.001) + 0.01 * 0.2 / (0.2 + 1e-8), p[1], 1e-7);
    assertEquals(2.0 * (1 - 0.001) - 0.01 * 0.3 / (0.3 + 1e-8), p[2], 1e-7);
    assertEquals(0.0, p[3], 0.0, "zero gradient and zero weight stay put");
  }

  @Test
  void threeStepsMatchIndependentComputationAndPyTorch() {
    // Independent double computation following PyTorch's documented AdamW algorithm.
    double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    double[] p = new double[4], m = new double[4], v = new double[4];
    for (int i = 0; i < 4; i++) {
      p[i] = P0[i];
    }
    AdamW opt = new AdamW(b1, b2, eps, wd);
    float[] params = P0.clone();
    // torch.optim.AdamW(lr per step, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), float64.
    double[][] torch = {
      {0.4895000009999999, -0.9890000004999999, 1.9880000003333334, 0.0},
      {0.48792356596966957, -0.9903360180770518, 1.98265068077436, -0.0037206315133155067},
      {0.48650975815543546, -0.991176432469149, 1.9821573766980372, -0.0024428352909812083}
    };
    for (int step = 1; step <= 3; step++) {
      double lr = LRS[step - 1];
      float[] g = GRADS[step - 1];
      for (int i = 0; i < 4; i++) {
        p[i] -= lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mHat = m[i] / (1 - Math.pow(b1, step));
        double vHat = v[i] / (1 - Math.pow(b2, step));
        p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
      }
      opt.step(params, g.clone(), lr);
      for (int i = 0; i < 4; i++) {
        assertEquals(p[i], params[i], 2e-7, "step " + step + " value " + i + " (independent)");
        assertEquals(torch[step - 1][i], params[i], 2e-7, "step " + step + " value " + i + " (PyTorch)");
      }
    }
    AdamW.State s = opt.state();
    assertEquals(3, s.t());
    float[] torchM = {0.0236f, 0.0398f, 0.0033f, -0.19991f};
    float[] torchV = {5.247751e-05f, 2.3976004e-04f, 1.8981009e-04f, 4.000001e-03f};
    for (int i = 0; i < 4; i++) {
      assertEquals(torchM[i], s.m()[i], 1e-7);
      assertEquals(torchV[i], s.v()[i], 1e-9);
    }
  }

  @Test
  void resumingFromExportedStateGivesTheSameTrajectory() throws IOException {
    AdamW a = new AdamW(0.01);
    float[] pa = P0.clone();
    a.step(pa, GRADS[0].clone(), 1e-2);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    a.state().writeTo(new DataOutputStream(bytes));
    AdamW.State restored = AdamW.State.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertEquals(a.state(), restored);
    AdamW b = new AdamW(0.01);
    b.loadState(restored);
    float[] pb = pa.clone();
    for (int k = 1; k < 3; k++) {
      a.step(pa, GRADS[k].clone(), LRS[k]);
      b.step(pb, GRADS[k].clone(), LRS[k]);
    }
    assertArrayEquals(pa, pb);
    assertEquals(a.state(), b.state());
  }

  @Test
  void rejectsBadInputsAndLeavesParamsUnchanged() {
    AdamW opt = new AdamW(0.0);
    float[] p = P0.clone();
    assertThrows(IllegalArgumentException.class, () -> opt.step(p, new float[3], 1e-3));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> opt.step(p, new float[] {0, Float.NaN, 0, 0}, 1e-3));
    assertTrue(e.getMessage().contains("gradient 1 is NaN"), e.getMessage());
    assertArrayEquals(P0, p);
    opt.step(p, GRADS[0].clone(), 1e-3);
    assertThrows(IllegalArgumentException.class, () -> opt.step(new float[5], new float[5], 1e-3));
    assertThrows(IllegalArgumentException.class, () -> new AdamW(1.0, 0.999, 1e-8, 0));
    assertThrows(IOException.class,
        () -> AdamW.State.readFrom(new DataInputStream(new ByteArrayInputStream(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))));
  }
}
