package io.perlspark.model.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.loss.GrpoLossConfig.Aggregation;
import io.perlspark.model.loss.GrpoLossConfig.KlEstimator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** (a) values against an independent double computation; validation; (d) empty batches. */
class GrpoLossTest {
  private static final double NAN = Double.NaN;
  private static final double NEG_INF = Double.NEGATIVE_INFINITY;

  // A hand-built batch: B = 4, T = 5. Padding holds NaN / −∞ on purpose.
  static final double[][] LOGP = {
    {-1.2, -0.7, -2.0, NAN, NEG_INF},
    {-0.3, -1.5, -0.9, -2.5, -0.1},
    {-1.0, NAN, -1.0, -1.0, -1.0},
    {-0.4, -3.0, -0.2, -1.1, NAN}
  };
  static final double[][] MASK = {
    {1, 1, 1, 0, 0},
    {1, 1, 1, 1, 1},
    {0, 0, 0, 0, 0},
    {1, 1, 1, 1, 0}
  };
  // Intended log-ratios logπθ − logπold: ratios 0.5 and 1.6 with A > 0 and A < 0, 4.0 and e^25
  // (log-ratio clamp) with A < 0 so that the dual-clip bound −c·A binds.
  static final double[][] LOG_RATIO = {
    {Math.log(0.5), Math.log(1.6), 0, 0, 0},
    {Math.log(0.5), Math.log(1.6), Math.log(4.0), 25.0, Math.log(1.1)},
    {0, 0, 0, 0, 0},
    {Math.log(1.1), Math.log(0.9), Math.log(1.3), Math.log(0.7), 0}
  };
  // ref − logp: 15, −25, 11, −12 hit the KL clamps (−25 also the ±20 clamp); −9 stays inside.
  static final double[][] REF_MINUS_LOGP = {
    {0.1, -0.2, 0.05, 0, 0},
    {0.3, 15.0, -25.0, 0.0, -0.4},
    {0, 0, 0, 0, 0},
    {11.0, -12.0, 0.5, -9.0, 0}
  };
  static final double[] ADV = {1.0, -0.5, 0.0, 2.0};

  static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  static double[][] old() {
    double[][] o = new double[4][5];
    for (int b = 0; b < 4; b++) {
      for (int t = 0; t < 5; t++) {
        o[b][t] = MASK[b][t] > 0 ? LOGP[b][t] - LOG_RATIO[b][t] : 7.0;
      }
    }
    return o;
  }

  static double[][] ref() {
    double[][] r = new double[4][5];
    for (int b = 0; b < 4; b++) {
      for (int t = 0; t < 5; t++) {
        r[b][t] = MASK[b][t] > 0 ? LOGP[b][t] + REF_MINUS_LOGP[b][t] : NAN;
      }
    }
    return r;
  }

  /** The reference: docs/ARCHITECTURE.md "GRPO as implemented" written out token by token in double, independent of the DJL code. */
  record Expected(double loss, double pgSum, double klSum, long clip, long dual, double ratioSum, long tokens, long seqs) {}

  static Expected reference(
      GrpoLossConfig c, double[][] logp, double[][] old, double[][] ref, double[] adv, double[][] mask, double normaliser) {
    double total = 0, pgSum = 0, klSum = 0, ratioSum = 0;
    long clip = 0, dual = 0, tokens = 0, seqs = 0;
    for (int b = 0; b < logp.length; b++) {
      double seqSum = 0;
      int seqTokens = 0;
      for (int t = 0; t < logp[b].length; t++) {
        if (mask[b][t] == 0) {
          continue;
        }
        double a = adv[b];
        double logRatio = Math.max(-20, Math.min(20, logp[b][t] - old[b][t]));
        double ratio = Math.exp(logRatio);
        double clipped = Math.max(1 - c.clipLow(), Math.min(1 + c.clipHigh(), ratio));
        double pg = -Math.min(ratio * a, clipped * a);
        if (clipped * a < ratio * a) {
          clip++;
        }
        if (c.dualClip() != null && a < 0) {
          if (pg > -c.dualClip() * a) {
            dual++;
          }
          pg = Math.min(pg, -c.dualClip() * a);
        }
        double kl = 0;
        if (ref != null && c.klEstimator() == KlEstimator.LOW_VAR_KL) {
          double d = Math.max(-20, Math.min(20, ref[b][t] - logp[b][t]));
          kl = Math.max(-10, Math.min(10, Math.exp(d) - d - 1));
        } else if (ref != null && c.klEstimator() == KlEstimator.K1) {
          kl = logp[b][t] - ref[b][t];
        }
        double l = pg + c.klCoef() * kl;
        seqSum += l;
        seqTokens++;
        pgSum += pg;
        klSum += kl;
        ratioSum += ratio;
      }
      tokens += seqTokens;
      if (seqTokens > 0) {
        seqs++;
        total += c.aggregation() == Aggregation.TOKEN_MEAN ? seqSum : seqSum / seqTokens;
      }
    }
    return new Expected(total / normaliser, pgSum, klSum, clip, dual, ratioSum, tokens, seqs);
  }

  static NDArray arr(double[][] v, DataType dt) {
    return arr(manager, v, dt);
  }

  static NDArray arr(NDManager manager, double[][] v, DataType dt) {
    int rows = v.length, cols = v[0].length;
    double[] flat = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(v[i], 0, flat, i * cols, cols);
    }
    return manager.create(flat, new Shape(rows, cols)).toType(dt, false);
  }

  private void checkAgainstReference(GrpoLossConfig c, DataType dt, boolean withRef, double tol) {
    double[][] old = old();
    double[][] ref = withRef ? ref() : null;
    double normaliser = c.aggregation() == Aggregation.TOKEN_MEAN ? 12 : 3;
    Expected e = reference(c, LOGP, old, ref, ADV, MASK, normaliser);
    LossOutput out =
        new GrpoLoss(c)
            .compute(
                arr(LOGP, dt),
                arr(old, dt),
                withRef ? arr(ref, dt) : null,
                manager.create(ADV).toType(dt, false),
                arr(MASK, DataType.FLOAT32),
                normaliser);
    assertEquals(e.loss(), out.loss().toType(DataType.FLOAT64, false).getDouble(), tol * Math.max(1, Math.abs(e.loss())), "loss " + c);
    assertEquals(0, out.loss().getShape().dimension(), "loss is a scalar");
    LossStats s = out.stats();
    assertEquals(e.loss(), s.loss(), tol * Math.max(1, Math.abs(e.loss())));
    assertEquals(e.tokens(), s.tokens());
    assertEquals(e.seqs(), s.sequences());
    assertEquals(e.pgSum() / e.tokens(), s.pgLoss(), tol * Math.max(1, Math.abs(e.pgSum())));
    assertEquals(e.klSum() / e.tokens(), s.kl(), tol * Math.max(1, Math.abs(e.klSum())));
    assertEquals(e.clip(), s.clipCount());
    assertEquals(e.dual(), s.dualClipCount());
    assertEquals(e.ratioSum() / e.tokens(), s.ratioMean(), 1e-6 * e.ratioSum());
    assertFalse(out.empty());
  }

  @Test
  void defaultConfigMatchesIndependentDoubleComputation() {
    for (Aggregation agg : Aggregation.values()) {
      GrpoLossConfig c = GrpoLossConfig.builder().setAggregation(agg).build();
      checkAgainstReference(c, DataType.FLOAT64, true, 1e-12);
      checkAgainstReference(c, DataType.FLOAT32, true, 1e-5);
    }
  }

  @Test
  void otherConfigsMatchIndependentDoubleComputation() {
    GrpoLossConfig base = GrpoLossConfig.defaults();
    for (Aggregation agg : Aggregation.values()) {
      checkAgainstReference(base.toBuilder().setAggregation(agg).optDualClip(null).build(), DataType.FLOAT64, true, 1e-12);
      checkAgainstReference(
          base.toBuilder().setAggregation(agg).setKlEstimator(KlEstimator.K1).setKlCoef(0.05).build(), DataType.FLOAT64, true, 1e-12);
      checkAgainstReference(
          base.toBuilder().setAggregation(agg).setKlCoef(0).setKlEstimator(KlEstimator.NONE).build(), DataType.FLOAT64, false, 1e-12);
      checkAgainstReference(
          base.toBuilder().setAggregation(agg).setClipLow(0.1).setClipHigh(0.28).optDualClip(2.5).setKlCoef(0.2).build(),
          DataType.FLOAT64, true, 1e-12);
    }
  }

  @Test
  void matchesVerlComputedWithPyTorch() {
    // Values printed by verl's compute_policy_loss + kl_penalty("low_var_kl") on this batch in
    // PyTorch 1.13 (float64), with seq-mean-token-mean restricted to non-empty sequences.
    GrpoLossConfig c = GrpoLossConfig.defaults();
    LossOutput tok =
        new GrpoLoss(c).compute(arr(LOGP, DataType.FLOAT64), arr(old(), DataType.FLOAT64), arr(ref(), DataType.FLOAT64),
            manager.create(ADV), arr(MASK, DataType.FLOAT64), 12);
    assertEquals(-0.438921503081962, tok.loss().getDouble(), 1e-12);
    assertEquals(3, tok.stats().clipCount());
    assertEquals(2, tok.stats().dualClipCount());
    assertEquals(-5.749999999999999 / 12, tok.stats().pgLoss(), 1e-12);
    assertEquals(48.29419630164551 / 12, tok.stats().kl(), 1e-12);
    LossOutput seq =
        new GrpoLoss(c.toBuilder().setAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN).build())
            .compute(arr(LOGP, DataType.FLOAT64), arr(old(), DataType.FLOAT64), arr(ref(), DataType.FLOAT64),
                manager.create(ADV), arr(MASK, DataType.FLOAT64), 3);
    assertEquals(-0.5964345404554723, seq.loss().getDouble(), 1e-12);
  }

  @Test
  void dualClipBoundAndRatioClampAreVisibleTokenByToken() {
    // One token each, A = −0.5, c = 3: bound −c·A = 1.5.
    double[][] logp = {{-1.0}, {-1.0}, {-1.0}};
    double[][] old = {{-1.0 - Math.log(4.0)}, {-1.0 - 25.0}, {-1.0 - Math.log(1.6)}};
    double[][] mask = {{1}, {1}, {1}};
    GrpoLoss loss = new GrpoLoss(GrpoLossConfig.defaults().toBuilder().setKlCoef(0).build());
    double[] perToken = new double[3];
    for (int i = 0; i < 3; i++) {
      perToken[i] =
          loss.compute(arr(new double[][] {logp[i]}, DataType.FLOAT64), arr(new double[][] {old[i]}, DataType.FLOAT64),
                  null, manager.create(new double[] {-0.5}), arr(new double[][] {mask[i]}, DataType.FLOAT64), 1)
              .loss()
              .getDouble();
    }
    assertEquals(1.5, perToken[0], 1e-12, "ratio 4: −r·A = 2 is capped at −c·A = 1.5");
    assertEquals(1.5, perToken[1], 1e-12, "ratio e^20 (clamped log-ratio) is capped too");
    assertEquals(0.8, perToken[2], 1e-12, "ratio 1.6 with A < 0: unclipped −r·A = 0.8 is below the cap");
  }

  @Test
  void allMaskedBatchGivesZeroAndEmptyWithoutNaN() {
    double[][] logp = {{NAN, NEG_INF, 3.0}, {NAN, NAN, NAN}};
    double[][] zeros = {{0, 0, 0}, {0, 0, 0}};
    for (Aggregation agg : Aggregation.values()) {
      GrpoLoss loss = new GrpoLoss(GrpoLossConfig.defaults().toBuilder().setAggregation(agg).build());
      for (double normaliser : new double[] {0, 17}) {
        LossOutput out =
            loss.compute(arr(logp, DataType.FLOAT32), arr(logp, DataType.FLOAT32), arr(logp, DataType.FLOAT32),
                manager.create(new float[] {1f, -1f}), arr(zeros, DataType.FLOAT32), normaliser);
        assertTrue(out.empty());
        assertEquals(0.0, out.loss().getFloat(), 0.0);
        assertEquals(0, out.stats().tokens());
        assertEquals(0, out.stats().sequences());
        assertEquals(0.0, out.stats().loss(), 0.0);
        assertEquals(0.0, out.stats().pgLoss(), 0.0);
        assertEquals(0.0, out.stats().clipFraction(), 0.0);
      }
    }
  }

  @Test
  void normaliserHelpersCountTokensOrNonEmptySequences() {
    NDArray m1 = arr(MASK, DataType.FLOAT32);
    NDArray m2 = manager.create(new boolean[] {true, false, false, false}, new Shape(2, 2));
    assertEquals(13, GrpoLoss.normaliser(Aggregation.TOKEN_MEAN, m1, m2));
    assertEquals(4, GrpoLoss.normaliser(Aggregation.SEQ_MEAN_TOKEN_MEAN, m1, m2));
    assertEquals(12, GrpoLoss.normaliser(Aggregation.TOKEN_MEAN, 3, 5, 0, 4));
    assertEquals(3, GrpoLoss.normaliser(Aggregation.SEQ_MEAN_TOKEN_MEAN, 3, 5, 0, 4));
    assertThrows(IllegalArgumentException.class, () -> GrpoLoss.normaliser(Aggregation.TOKEN_MEAN, 3, -1));
  }

  @Test
  void rejectsBadInputsWithClearMessages() {
    GrpoLoss loss = new GrpoLoss(GrpoLossConfig.defaults());
    NDArray lp = arr(LOGP, DataType.FLOAT64);
    NDArray adv = manager.create(ADV);
    NDArray mask = arr(MASK, DataType.FLOAT64);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> loss.compute(lp, lp, null, adv, mask, 12));
    assertTrue(e.getMessage().contains("refLogp"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> loss.compute(lp, lp, lp, adv, mask, 11));
    assertTrue(e.getMessage().contains("smaller than this micro-batch's own token count 12"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> loss.compute(lp, lp.get("0:2"), lp, adv, mask, 12));
    assertTrue(e.getMessage().contains("oldLogp"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> loss.compute(lp, lp, lp, adv.get("0:3"), mask, 12));
    assertTrue(e.getMessage().contains("advantages"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> loss.compute(lp, lp, lp, adv, mask, Double.NaN));
    assertTrue(e.getMessage().contains("normaliser"), e.getMessage());
  }

  @Test
  void configValidationNamesTheSetting() {
    GrpoLossConfig.Builder b = GrpoLossConfig.builder();
    assertTrue(assertThrows(IllegalArgumentException.class, () -> b.optDualClip(1.0).build()).getMessage().contains("dualClip"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GrpoLossConfig.builder().setClipLow(1.0).build())
        .getMessage().contains("clipLow"));
    assertTrue(assertThrows(IllegalArgumentException.class,
            () -> GrpoLossConfig.builder().setKlEstimator(KlEstimator.NONE).setKlCoef(0.1).build())
        .getMessage().contains("klEstimator is none"));
    assertEquals(KlEstimator.LOW_VAR_KL, KlEstimator.parse("k3"));
    assertEquals(KlEstimator.K1, KlEstimator.parse("kl"));
    assertEquals(Aggregation.SEQ_MEAN_TOKEN_MEAN, Aggregation.parse("seq-mean-token-mean"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Aggregation.parse("seq-mean-token-sum"))
        .getMessage().contains("allowed: token-mean, seq-mean-token-mean"));
  }
}
