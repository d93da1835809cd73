package io.perlspark.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.loss.GrpoLossConfig.Aggregation;
import io.perlspark.model.loss.GrpoLossConfig.KlEstimator;
import io.perlspark.model.policy.Constants;
import java.util.Objects;

/**
 * The GRPO policy loss of docs/ARCHITECTURE.md "GRPO as implemented" (verl's semantics): clipped importance ratio with optional dual
 * clip for negative advantages, optional KL penalty to a frozen reference, and an aggregation whose
 * normaliser is passed in explicitly so that gradient accumulation over micro-batches (and
 * executors) is exactly the gradient of one big batch.
 *
 * <p>Computation happens in the data type of {@code logp} (float32 or float64); the other inputs are
 * converted to it. Padding positions ({@code mask == 0}) are replaced by 0 before any arithmetic, so
 * their values (even NaN or −∞) never reach the loss or its gradient.
 */
public final class GrpoLoss implements java.io.Serializable {
  /** Bound of the log-ratio and of the k3 log-difference (verl). */
  static final double LOG_RATIO_BOUND = 20.0;
  /** Bound of the k3 KL value (verl). */
  static final double KL_BOUND = 10.0;

  private final GrpoLossConfig config;

  public GrpoLoss(GrpoLossConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  public GrpoLossConfig config() {
    return config;
  }

  /**
   * Computes the loss of one micro-batch.
   *
   * @param logp current-policy log-probs of the sampled tokens [B, T], with gradient
   * @param oldLogp log-probs under the policy that sampled them [B, T]
   * @param refLogp reference-policy log-probs [B, T]; may be null when {@code klCoef == 0}
   *     (when given with {@code klCoef == 0} the KL is still reported in the stats)
   * @param advantages one advantage per sequence [B] (or [B, 1])
   * @param mask 1 (or true) at response tokens, 0 at prompt and padding [B, T]
   * @param normaliser for token-mean: the number of unmasked tokens of the whole mini-batch (all
   *     micro-batches on all executors); for seq-mean-token-mean: the number of sequences with ≥ 1
   *     unmasked token in the mini-batch. See {@link #normaliser}. It may be 0 only when this
   *     micro-batch is empty too.
   * @return the scalar loss {@code Σ / normaliser} and its statistics; the intermediate arrays are
   *     released, only the loss (on logp's manager) stays
   */
  @SuppressWarnings("try") // the NDScope releases intermediates; its variable is unused
  public LossOutput compute(
      NDArray logp,
      NDArray oldLogp,
      NDArray refLogp,
      NDArray advantages,
      NDArray mask,
      double normaliser) {
    Objects.requireNonNull(logp, "logp");
    Objects.requireNonNull(oldLogp, "oldLogp");
    Objects.requireNonNull(advantages, "advantages");
    Objects.requireNonNull(mask, "mask");
    Shape shape = logp.getShape();
    if (shape.dimension() != 2) {
      throw new IllegalArgumentException("logp must be [B, T], got shape " + shape);
    }
    requireShape("oldLogp", oldLogp, shape);
    requireShape("mask", mask, shape);
    if (refLogp != null) {
      requireShape("refLogp", refLogp, shape);
    } else if (config.usesReference()) {
      throw new IllegalArgumentException(
          "refLogp is null but klCoef is " + config.klCoef() + "; pass reference log-probs");
    }
    long batch = shape.get(0);
    if (advantages.size() != batch
        || advantages.getShape().dimension() > 2
        || (advantages.getShape().dimension() == 2 && advantages.getShape().get(1) != 1)) {
      throw new IllegalArgumentException(
          "advantages must be [B] or [B, 1] with B = " + batch + ", got shape " + advantages.getShape());
    }
    if (!Double.isFinite(normaliser) || normaliser < 0) {
      throw new IllegalArgumentException("normaliser must be a finite value >= 0, got " + normaliser);
    }

    DataType dt = logp.getDataType();
    boolean computeKl = refLogp != null && config.klEstimator() != KlEstimator.NONE;
    try (NDScope scope = new NDScope()) {
      NDArray m = mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0);
      NDArray mLong = m.toType(DataType.INT64, false);
      long tokens = mLong.sum().getLong();
      long sequences = mLong.sum(new int[] {1}).gt(0).toType(DataType.INT64, false).sum().getLong();
      long units = config.aggregation() == Aggregation.TOKEN_MEAN ? tokens : sequences;
      if (units > normaliser) {
        throw new IllegalArgumentException(
            "normaliser "
                + normaliser
                + " is smaller than this micro-batch's own "
                + (config.aggregation() == Aggregation.TOKEN_MEAN ? "token" : "sequence")
                + " count "
                + units
                + "; pass the "
                + config.aggregation()
                + " count of the whole mini-batch (GrpoLoss.normaliser)");
      }

      NDArray zero = logp.zerosLike();
      NDArray lp = NDArrays.where(m, logp, zero);
      NDArray old = NDArrays.where(m, oldLogp.toType(dt, false), zero);
      NDArray adv = advantages.toType(dt, false).reshape(batch, 1).broadcast(shape);

      NDArray ratio = lp.sub(old).clip(-LOG_RATIO_BOUND, LOG_RATIO_BOUND).exp();
      NDArray pgUnclipped = ratio.mul(adv).neg();
      NDArray pgClippedRatio =
          ratio.clip(1 - config.clipLow(), 1 + config.clipHigh()).mul(adv).neg();
      // −min(r·A, clip(r)·A) = max(−r·A, −clip(r)·A)
      NDArray pg = pgUnclipped.maximum(pgClippedRatio);
      NDArray clipActive = pgClippedRatio.gt(pgUnclipped).logicalAnd(m);
      NDArray dualActive = null;
      if (config.dualClip() != null) {
        NDArray bound = adv.mul(-config.dualClip());
        NDArray negative = adv.lt(0);
        dualActive = pg.gt(bound).logicalAnd(negative).logicalAnd(m);
        pg = NDArrays.where(negative, pg.minimum(bound), pg);
      }

      NDArray perToken = pg;
      NDArray kl = null;
      if (computeKl) {
        NDArray ref = NDArrays.where(m, refLogp.toType(dt, false), zero);
        if (config.klEstimator() == KlEstimator.LOW_VAR_KL) {
          NDArray d = ref.sub(lp).clip(-LOG_RATIO_BOUND, LOG_RATIO_BOUND);
          kl = d.exp().sub(d).sub(1).clip(-KL_BOUND, KL_BOUND);
        } else {
          kl = lp.sub(ref);
        }
        if (config.klCoef() > 0) {
          perToken = pg.add(kl.mul(Constants.scalar(kl, config.klCoef())));
        }
      }

      NDArray masked = NDArrays.where(m, perToken, zero);
      NDArray total;
      if (config.aggregation() == Aggregation.TOKEN_MEAN) {
        total = masked.sum();
      } else {
        NDArray perSeqCount = mLong.sum(new int[] {1}).maximum(1).toType(dt, false);
        total = masked.sum(new int[] {1}).div(perSeqCount).sum();
      }
      // An empty micro-batch sums exact zeros; dividing by 1 keeps a normaliser of 0 from making NaN.
      NDArray loss = total.div(Constants.scalar(total, normaliser > 0 ? normaliser : 1.0));

      NDArray klSum = kl == null ? zero.sum() : NDArrays.where(m, kl, zero).sum();
      double[] sums =
          NDArrays.stack(
                  new NDList(
                      loss.stopGradient().toType(DataType.FLOAT64, false),
                      NDArrays.where(m, pg, zero).sum().stopGradient().toType(DataType.FLOAT64, false),
                      klSum.stopGradient().toType(DataType.FLOAT64, false),
                      clipActive.toType(DataType.FLOAT64, false).sum(),
                      dualActive == null
                          ? zero.sum().toType(DataType.FLOAT64, false)
                          : dualActive.toType(DataType.FLOAT64, false).sum(),
                      NDArrays.where(m, ratio, zero).sum().stopGradient().toType(DataType.FLOAT64, false)))
              .toDoubleArray();
      LossStats stats =
          new LossStats(
              sums[0], tokens, sequences, sums[1], sums[2], Math.round(sums[3]), Math.round(sums[4]), sums[5]);
      NDScope.unregister(loss);
      loss.attach(logp.getManager());
      return new LossOutput(loss, stats);
    }
  }

  /**
   * The normaliser for a mini-batch made of the given masks (each [B_i, T_i]): total unmasked tokens
   * for token-mean, total sequences with ≥ 1 unmasked token for seq-mean-token-mean.
   */
  public static double normaliser(Aggregation aggregation, NDArray... masks) {
    long total = 0;
    for (NDArray mask : masks) {
      total += units(aggregation, mask);
    }
    return total;
  }

  /** The normaliser for a mini-batch given each sequence's number of unmasked response tokens. */
  public static double normaliser(Aggregation aggregation, int... responseTokenCounts) {
    long total = 0;
    for (int i = 0; i < responseTokenCounts.length; i++) {
      int n = responseTokenCounts[i];
      if (n < 0) {
        throw new IllegalArgumentException("responseTokenCounts[" + i + "] is negative: " + n);
      }
      total += aggregation == Aggregation.TOKEN_MEAN ? n : (n > 0 ? 1 : 0);
    }
    return total;
  }

  /** This mask's share of the normaliser: its unmasked tokens, or its non-empty sequences. */
  @SuppressWarnings("try") // the NDScope releases intermediates; its variable is unused
  public static long units(Aggregation aggregation, NDArray mask) {
    if (mask.getShape().dimension() != 2) {
      throw new IllegalArgumentException("mask must be [B, T], got shape " + mask.getShape());
    }
    try (NDScope scope = new NDScope()) {
      NDArray m = (mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0)).toType(DataType.INT64, false);
      if (aggregation == Aggregation.TOKEN_MEAN) {
        return m.sum().getLong();
      }
      return m.sum(new int[] {1}).gt(0).toType(DataType.INT64, false).sum().getLong();
    }
  }

  /** A 0-d array of {@code like}'s type: dividing a 0-d float32 array by a Java double would give float64. */
  static void requireShape(String name, NDArray a, Shape expected) {
    if (!a.getShape().equals(expected)) {
      throw new IllegalArgumentException(
          name + " must have the shape of logp " + expected + ", got " + a.getShape());
    }
  }
}
