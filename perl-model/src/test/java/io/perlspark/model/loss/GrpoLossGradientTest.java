package io.perlspark.model.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.perlspark.model.learn.GradientAccumulator;
import io.perlspark.model.loss.GrpoLossConfig.Aggregation;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** (b) gradients against finite differences and closed forms; (c) exact gradient accumulation. */
class GrpoLossGradientTest {
  static final int B = 6, T = 5, F = 4, V = 6;
  static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  /** A batch for the tiny model: features, targets, mask, advantages and fixed old/ref log-ratios. */
  record Batch(NDArray features, NDArray targets, NDArray mask, NDArray adv, double[][] logRatio, double[][] refMinusLogp) {}

  static Batch batch() {
    Random rnd = new Random(7);
    double[] feats = new double[B * T * F];
    for (int i = 0; i < feats.length; i++) {
      feats[i] = rnd.nextGaussian();
    }
    long[] targets = new long[B * T];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = rnd.nextInt(V);
    }
    // Rows 3..5 have no tokens at t >= 3, so the second micro-batch can be cut to T = 3.
    float[][] mask = {
      {1, 1, 1, 1, 0}, {1, 1, 1, 1, 1}, {1, 1, 0, 0, 0}, {1, 1, 1, 0, 0}, {0, 0, 0, 0, 0}, {1, 0, 0, 0, 0}
    };
    // Ratios kept away from the kinks at 0.8, 1.2 and the dual bound 3 (h = 1e-6 must not cross one).
    double[] ratios = {0.5, 0.9, 1.05, 1.6, 3.5, 5.0, 0.7, 1.3};
    double[] refDiffs = {0.3, -0.5, 15.0, 1.0, -14.0, 0.1};
    double[][] logRatio = new double[B][T];
    double[][] refMinus = new double[B][T];
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        logRatio[b][t] = Math.log(ratios[(b * T + t) % ratios.length]);
        refMinus[b][t] = refDiffs[(b * 3 + t) % refDiffs.length];
      }
    }
    float[] flatMask = new float[B * T];
    for (int b = 0; b < B; b++) {
      System.arraycopy(mask[b], 0, flatMask, b * T, T);
    }
    return new Batch(
        manager.create(feats, new Shape(B, T, F)),
        manager.create(targets, new Shape(B, T)),
        manager.create(flatMask, new Shape(B, T)),
        manager.create(new double[] {1.0, -0.7, 0.4, -1.5, 0.9, -0.2}),
        logRatio,
        refMinus);
  }

  /** old = logp₀ − logRatio and ref = logp₀ + (ref − logp) around the model's initial log-probs. */
  static NDArray[] oldAndRef(TinyLogitModel model, Batch batch) {
    double[] lp0 = model.tokenLogProbs(batch.features(), batch.targets(), false).toDoubleArray();
    double[] old = new double[B * T];
    double[] ref = new double[B * T];
    for (int i = 0; i < B * T; i++) {
      old[i] = lp0[i] - batch.logRatio()[i / T][i % T];
      ref[i] = lp0[i] + batch.refMinusLogp()[i / T][i % T];
    }
    return new NDArray[] {manager.create(old, new Shape(B, T)), manager.create(ref, new Shape(B, T))};
  }

  @Test
  void gradientThroughLinearModelMatchesFiniteDifferences() {
    Batch batch = batch();
    for (Aggregation agg : Aggregation.values()) {
      TinyLogitModel model = new TinyLogitModel(manager, F, V, 11);
      NDArray[] oldRef = oldAndRef(model, batch);
      GrpoLoss loss =
          new GrpoLoss(GrpoLossConfig.defaults().toBuilder().setAggregation(agg).setKlCoef(0.1).build());
      double normaliser = GrpoLoss.normaliser(agg, batch.mask());
      Function<NDArray, NDArray> f =
          logp -> loss.compute(logp, oldRef[0], oldRef[1], batch.adv(), batch.mask(), normaliser).loss();
      float[] analytic = model.gradient(batch.features(), batch.targets(), f);
      double[] numeric = model.finiteDifferences(batch.features(), batch.targets(), f, 1e-6);
      double maxAbs = 0;
      for (double g : numeric) {
        maxAbs = Math.max(maxAbs, Math.abs(g));
      }
      assertTrue(maxAbs > 1e-3, "the check must see a real gradient, max |g| = " + maxAbs);
      // float64 model; the analytic gradient is exported as float32, so ~1e-7 relative error.
      for (int i = 0; i < numeric.length; i++) {
        assertEquals(numeric[i], analytic[i], 1e-6 + 1e-5 * Math.abs(numeric[i]), agg + " parameter value " + i);
      }
    }
  }

  @Test
  void gradientWithRespectToLogProbsIsZeroWhereAClampBindsAndAtPadding() {
    double[][] logpV = GrpoLossTest.LOGP;
    double[][] old = GrpoLossTest.old();
    double[][] ref = GrpoLossTest.ref();
    double[] adv = GrpoLossTest.ADV;
    double[][] mask = GrpoLossTest.MASK;
    double beta = 0.5;
    for (Double dual : new Double[] {3.0, null}) {
      GrpoLossConfig c = GrpoLossConfig.defaults().toBuilder().setKlCoef(beta).optDualClip(dual).build();
      NDArray logp = GrpoLossTest.arr(manager, logpV, DataType.FLOAT64);
      logp.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(
            new GrpoLoss(c)
                .compute(logp, GrpoLossTest.arr(manager, old, DataType.FLOAT64), GrpoLossTest.arr(manager, ref, DataType.FLOAT64),
                    manager.create(adv), GrpoLossTest.arr(manager, mask, DataType.FLOAT64), 12)
                .loss());
      }
      double[] grad = logp.getGradient().toDoubleArray();
      for (int b = 0; b < 4; b++) {
        for (int t = 0; t < 5; t++) {
          double expected = 0;
          if (mask[b][t] > 0) {
            double a = adv[b];
            double lr = logpV[b][t] - old[b][t];
            double r = Math.exp(Math.max(-20, Math.min(20, lr)));
            double clipped = Math.max(0.8, Math.min(1.2, r));
            boolean unclipped = -r * a >= -clipped * a;
            double pg = Math.max(-r * a, -clipped * a);
            boolean dualBinds = dual != null && a < 0 && pg > -dual * a;
            double gPg = !dualBinds && unclipped && Math.abs(lr) <= 20 ? -a * r : 0;
            double d = ref[b][t] - logpV[b][t];
            double kl = Math.exp(d) - d - 1;
            double gKl = Math.abs(d) <= 20 && Math.abs(kl) <= 10 ? 1 - Math.exp(d) : 0;
            expected = (gPg + beta * gKl) / 12;
          }
          assertEquals(expected, grad[b * 5 + t], 1e-9 * Math.max(1, Math.abs(expected)), "dual=" + dual + " token " + b + "," + t);
        }
      }
      // Without the dual clip the ratio e^25 (clamped to e^20, A = −0.5) would have a gradient of
      // about 0.5·e^20 / 12; the clamp makes it exactly the KL part.
      assertEquals(beta * (1 - Math.exp(0.0)) / 12, grad[1 * 5 + 3], 1e-12);
    }
  }

  @Test
  void twoMicroBatchesWithGlobalNormaliserEqualOneBigBatch() {
    Batch batch = batch();
    for (Aggregation agg : Aggregation.values()) {
      TinyLogitModel model = new TinyLogitModel(manager, F, V, 23);
      NDArray[] oldRef = oldAndRef(model, batch);
      GrpoLoss loss = new GrpoLoss(GrpoLossConfig.defaults().toBuilder().setAggregation(agg).build());
      double normaliser = GrpoLoss.normaliser(agg, batch.mask());

      LossStats[] bigStats = new LossStats[1];
      float[] big =
          model.gradient(batch.features(), batch.targets(), logp -> {
            LossOutput out = loss.compute(logp, oldRef[0], oldRef[1], batch.adv(), batch.mask(), normaliser);
            bigStats[0] = out.stats();
            return out.loss();
          });

      // Micro-batch 1: rows 0..2 at full length; micro-batch 2: rows 3..5 cut to T = 3.
      String[] rows = {"0:3", "3:6"};
      String[] cols = {":", ":3"};
      double globalFromParts =
          GrpoLoss.normaliser(agg, batch.mask().get("0:3, :"), batch.mask().get("3:6, :3"));
      assertEquals(normaliser, globalFromParts);
      GradientAccumulator acc = new GradientAccumulator();
      GradientAccumulator localNormalised = new GradientAccumulator();
      LossStats merged = LossStats.EMPTY;
      for (int part = 0; part < 2; part++) {
        String idx = rows[part] + ", " + cols[part];
        NDArray feats = batch.features().get(idx);
        NDArray targets = batch.targets().get(idx);
        NDArray mask = batch.mask().get(idx);
        NDArray old = oldRef[0].get(idx);
        NDArray ref = oldRef[1].get(idx);
        NDArray adv = batch.adv().get(rows[part]);
        LossStats[] st = new LossStats[1];
        float[] g =
            model.gradient(feats, targets, logp -> {
              LossOutput out = loss.compute(logp, old, ref, adv, mask, normaliser);
              st[0] = out.stats();
              return out.loss();
            });
        acc.add(g, 3, st[0].tokens());
        merged = merged.merge(st[0]);
        double local = GrpoLoss.normaliser(agg, mask);
        localNormalised.add(
            model.gradient(feats, targets, logp -> loss.compute(logp, old, ref, adv, mask, local).loss()), 3, 0);
      }
      float[] summed = acc.sum();
      double maxAbs = 0, maxDiff = 0, maxLocalDiff = 0;
      for (int i = 0; i < big.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(big[i]));
        maxDiff = Math.max(maxDiff, Math.abs(big[i] - summed[i]));
        maxLocalDiff = Math.max(maxLocalDiff, Math.abs(big[i] - localNormalised.sum()[i]));
      }
      assertTrue(maxDiff <= 1e-6 * maxAbs, agg + ": accumulated gradient differs by " + maxDiff + " (max |g| " + maxAbs + ")");
      assertTrue(maxLocalDiff > 1e-2 * maxAbs, agg + ": averaging micro-batch means would have been caught");
      assertEquals(bigStats[0].loss(), merged.loss(), 1e-12);
      assertEquals(bigStats[0].tokens(), merged.tokens());
      assertEquals(bigStats[0].sequences(), merged.sequences());
      assertEquals(bigStats[0].clipCount(), merged.clipCount());
      assertEquals(bigStats[0].dualClipCount(), merged.dualClipCount());
      assertEquals(bigStats[0].tokens(), acc.tokens());
      assertEquals(6, acc.samples());
    }
  }

  @Test
  void emptyMicroBatchBackpropagatesZeros() {
    TinyLogitModel model = new TinyLogitModel(manager, F, V, 5);
    Batch batch = batch();
    NDArray feats = batch.features().get("4:5");
    NDArray targets = batch.targets().get("4:5");
    NDArray mask = batch.mask().get("4:5");
    NDArray nan = manager.full(new Shape(1, T), Float.NaN).toType(DataType.FLOAT64, false);
    float[] g =
        model.gradient(feats, targets, logp -> {
          LossOutput out = new GrpoLoss(GrpoLossConfig.defaults()).compute(logp, nan, nan, manager.create(new double[] {2.0}), mask, 0);
          assertTrue(out.empty());
          return out.loss();
        });
    for (float x : g) {
      assertEquals(0f, x);
    }
  }
}
