package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;

/**
 * The GRPO objective (docs/ARCHITECTURE.md "GRPO as implemented").
 *
 * @param advantage {@code grpo} (r - mean) / (std + 1e-6), or {@code drgrpo} r - mean (no std
 *     scaling)
 * @param clipLow PPO clip epsilon below 1, in [0, 1)
 * @param clipHigh PPO clip epsilon above 1, in [0, 1)
 * @param dualClip dual-clip constant c > 1 for negative advantages; null disables dual-clip
 * @param klCoef weight of the KL penalty to the frozen reference; 0 disables it
 * @param klEstimator {@code low_var_kl} (k3) or {@code k1}
 * @param lossAgg {@code token-mean} or {@code seq-mean-token-mean}
 * @param ppoEpochs passes over each rollout batch
 */
public record AlgorithmConfig(
    String advantage,
    double clipLow,
    double clipHigh,
    Double dualClip,
    double klCoef,
    String klEstimator,
    String lossAgg,
    int ppoEpochs)
    implements Serializable {

  public static final List<String> ADVANTAGES = Checks.list("grpo", "drgrpo");
  public static final List<String> KL_ESTIMATORS = Checks.list("low_var_kl", "k1");
  public static final List<String> LOSS_AGGS = Checks.list("token-mean", "seq-mean-token-mean");

  public static AlgorithmConfig defaults() {
    return new AlgorithmConfig("grpo", 0.2, 0.2, 3.0, 0.01, "low_var_kl", "token-mean", 1);
  }

  /** Whether advantages are divided by the group's reward std (false for Dr.GRPO). */
  public boolean scaleByStd() {
    return !"drgrpo".equals(advantage);
  }

  void check(Checks c, String path) {
    c.oneOf(Checks.join(path, "advantage"), advantage, ADVANTAGES);
    c.unitHalfOpen(Checks.join(path, "clipLow"), clipLow);
    c.unitHalfOpen(Checks.join(path, "clipHigh"), clipHigh);
    if (dualClip != null && !(Double.isFinite(dualClip) && dualClip > 1)) {
      c.notAllowed(Checks.join(path, "dualClip"), dualClip, "must be > 1, or null to disable");
    }
    c.nonNegative(Checks.join(path, "klCoef"), klCoef);
    c.oneOf(Checks.join(path, "klEstimator"), klEstimator, KL_ESTIMATORS);
    c.oneOf(Checks.join(path, "lossAgg"), lossAgg, LOSS_AGGS);
    c.atLeast(Checks.join(path, "ppoEpochs"), ppoEpochs, 1);
  }
}
