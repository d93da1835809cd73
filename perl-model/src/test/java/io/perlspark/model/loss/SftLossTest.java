package io.perlspark.model.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.learn.GradientAccumulator;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SftLossTest {
  static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void crossEntropyOnResponseTokensOnlyMatchesPlainJava() {
    int b = 2, t = 3, v = 4;
    Random rnd = new Random(3);
    double[] logits = new double[b * t * v];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = rnd.nextGaussian() * 2;
    }
    long[] targets = {0, 3, 1, 2, 2, 0};
    float[] mask = {0, 1, 1, 1, 0, 0}; // prompt token, two response tokens; one response token, padding
    double nll = 0;
    for (int pos = 0; pos < b * t; pos++) {
      if (mask[pos] == 0) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < v; k++) {
        max = Math.max(max, logits[pos * v + k]);
      }
      double z = 0;
      for (int k = 0; k < v; k++) {
        z += Math.exp(logits[pos * v + k] - max);
      }
      nll -= logits[pos * v + (int) targets[pos]] - max - Math.log(z);
    }
    SftLoss.Output out =
        SftLoss.fromLogits(
            manager.create(logits, new Shape(b, t, v)), manager.create(targets, new Shape(b, t)),
            manager.create(mask, new Shape(b, t)), 3);
    assertEquals(nll / 3, out.loss().getDouble(), 1e-12);
    assertEquals(3, out.tokens());
    assertEquals(nll / 3, out.meanNll(), 1e-12);
  }

  @Test
  void accumulatedMicroBatchGradientsEqualTheBigBatch() {
    int b = 4, t = 5, f = 3, v = 5;
    TinyLogitModel model = new TinyLogitModel(manager, f, v, 9);
    Random rnd = new Random(4);
    double[] feats = new double[b * t * f];
    for (int i = 0; i < feats.length; i++) {
      feats[i] = rnd.nextGaussian();
    }
    long[] targets = new long[b * t];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = rnd.nextInt(v);
    }
    float[] maskV = {1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    NDArray x = manager.create(feats, new Shape(b, t, f));
    NDArray y = manager.create(targets, new Shape(b, t));
    NDArray mask = manager.create(maskV, new Shape(b, t));
    double n = 11;
    float[] big = model.gradient(x, y, lp -> SftLoss.fromTokenLogProbs(lp, mask, n).loss());
    GradientAccumulator acc = new GradientAccumulator();
    for (String rows : new String[] {"0:1", "1:4"}) {
      acc.add(model.gradient(x.get(rows), y.get(rows), lp -> SftLoss.fromTokenLogProbs(lp, mask.get(rows), n).loss()), 1, 0);
    }
    for (int i = 0; i < big.length; i++) {
      assertEquals(big[i], acc.sum()[i], 1e-6 * Math.max(1, Math.abs(big[i])));
    }
  }

  @Test
  void emptyAndBadNormaliser() {
    NDArray lp = manager.create(new float[] {Float.NaN, -1f}, new Shape(1, 2));
    SftLoss.Output out = SftLoss.fromTokenLogProbs(lp, manager.zeros(new Shape(1, 2)), 0);
    assertTrue(out.empty());
    assertEquals(0f, out.loss().getFloat(), 0f);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class,
            () -> SftLoss.fromTokenLogProbs(lp, manager.ones(new Shape(1, 2)), 1));
    assertTrue(e.getMessage().contains("token count 2"), e.getMessage());
  }
}
