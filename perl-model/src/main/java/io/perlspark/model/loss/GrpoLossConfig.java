package io.perlspark.model.loss;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Settings of the GRPO policy loss (docs/ARCHITECTURE.md "GRPO as implemented").
 *
 * @param clipLow ε_low: the ratio is clipped below at {@code 1 − clipLow}; in [0, 1)
 * @param clipHigh ε_high: the ratio is clipped above at {@code 1 + clipHigh}; ≥ 0
 * @param dualClip c of the dual clip applied to negative advantages ({@code L_pg = min(L_pg, −c·A)}),
 *     or {@code null} for no dual clip; must be &gt; 1
 * @param klCoef β, the weight of the per-token KL penalty to the reference policy; ≥ 0
 * @param klEstimator how the per-token KL is estimated
 * @param aggregation how per-token losses become one scalar
 */
public record GrpoLossConfig(
    double clipLow,
    double clipHigh,
    Double dualClip,
    double klCoef,
    KlEstimator klEstimator,
    Aggregation aggregation)
    implements Serializable {

  /** Per-token KL estimators, named as in verl. */
  public enum KlEstimator {
    /** k3: {@code d = clamp(ref − logp, ±20)}, {@code kl = clamp(exp(d) − d − 1, ±10)}. */
    LOW_VAR_KL,
    /** k1: {@code logp − ref}, unclamped. */
    K1,
    /** No KL term (the reference log-probs may be absent). */
    NONE;

    /** Accepts the enum name or verl's spelling: low_var_kl | k3 | k1 | kl | none. */
    public static KlEstimator parse(String name) {
      String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
      switch (n) {
        case "low_var_kl":
        case "k3":
          return LOW_VAR_KL;
        case "k1":
        case "kl":
          return K1;
        case "none":
          return NONE;
        default:
          throw new IllegalArgumentException(
              "unknown KL estimator '" + name + "'; allowed: low_var_kl (k3), k1 (kl), none");
      }
    }
  }

  /** Loss aggregation modes (verl's loss_agg_mode). */
  public enum Aggregation {
    /** Sum over all unmasked tokens of the mini-batch divided by their count. */
    TOKEN_MEAN,
    /** Mean over sequences with ≥ 1 unmasked token of each sequence's token mean. */
    SEQ_MEAN_TOKEN_MEAN;

    /** Accepts the enum name or verl's spelling: token-mean | seq-mean-token-mean. */
    public static Aggregation parse(String name) {
      String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      switch (n) {
        case "token-mean":
          return TOKEN_MEAN;
        case "seq-mean-token-mean":
          return SEQ_MEAN_TOKEN_MEAN;
        default:
          throw new IllegalArgumentException(
              "unknown loss aggregation '"
                  + name
                  + "'; allowed: "
                  + Arrays.stream(values())
                      .map(v -> v.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                      .collect(Collectors.joining(", ")));
      }
    }
  }

  public GrpoLossConfig {
    if (!(clipLow >= 0 && clipLow < 1)) {
      throw new IllegalArgumentException("clipLow must be in [0, 1), got " + clipLow);
    }
    if (!(clipHigh >= 0) || Double.isInfinite(clipHigh)) {
      throw new IllegalArgumentException("clipHigh must be a finite value >= 0, got " + clipHigh);
    }
    if (dualClip != null && !(dualClip > 1 && Double.isFinite(dualClip))) {
      throw new IllegalArgumentException(
          "dualClip must be a finite value > 1 (or null for no dual clip), got " + dualClip);
    }
    if (!(klCoef >= 0) || Double.isInfinite(klCoef)) {
      throw new IllegalArgumentException("klCoef must be a finite value >= 0, got " + klCoef);
    }
    if (klEstimator == null) {
      throw new IllegalArgumentException("klEstimator must be set (low_var_kl, k1 or none)");
    }
    if (aggregation == null) {
      throw new IllegalArgumentException("aggregation must be set (token-mean or seq-mean-token-mean)");
    }
    if (klCoef > 0 && klEstimator == KlEstimator.NONE) {
      throw new IllegalArgumentException(
          "klCoef is " + klCoef + " but klEstimator is none; set klCoef=0 or choose low_var_kl / k1");
    }
  }

  /** The paper's reference settings: ε = 0.2/0.2, c = 3, β = 0.01 with k3, token-mean. */
  public static GrpoLossConfig defaults() {
    return new GrpoLossConfig(0.2, 0.2, 3.0, 0.01, KlEstimator.LOW_VAR_KL, Aggregation.TOKEN_MEAN);
  }

  /** Whether the loss needs reference log-probs. */
  public boolean usesReference() {
    return klCoef > 0;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .setClipLow(clipLow)
        .setClipHigh(clipHigh)
        .optDualClip(dualClip)
        .setKlCoef(klCoef)
        .setKlEstimator(klEstimator)
        .setAggregation(aggregation);
  }

  /** Builder starting from {@link #defaults()}. */
  public static final class Builder {
    private double clipLow = 0.2;
    private double clipHigh = 0.2;
    private Double dualClip = 3.0;
    private double klCoef = 0.01;
    private KlEstimator klEstimator = KlEstimator.LOW_VAR_KL;
    private Aggregation aggregation = Aggregation.TOKEN_MEAN;

    private Builder() {}

    public Builder setClipLow(double v) {
      clipLow = v;
      return this;
    }

    public Builder setClipHigh(double v) {
      clipHigh = v;
      return this;
    }

    /** {@code null} turns the dual clip off. */
    public Builder optDualClip(Double v) {
      dualClip = v;
      return this;
    }

    public Builder setKlCoef(double v) {
      klCoef = v;
      return this;
    }

    public Builder setKlEstimator(KlEstimator v) {
      klEstimator = v;
      return this;
    }

    public Builder setAggregation(Aggregation v) {
      aggregation = v;
      return this;
    }

    public GrpoLossConfig build() {
      return new GrpoLossConfig(clipLow, clipHigh, dualClip, klCoef, klEstimator, aggregation);
    }
  }
}
