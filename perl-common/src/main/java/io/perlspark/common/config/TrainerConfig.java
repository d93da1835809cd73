package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;

/**
 * Optimisation and the step loop.
 *
 * @param lr AdamW peak learning rate, > 0
 * @param weightDecay AdamW decoupled weight decay, >= 0
 * @param beta1 AdamW first-moment decay, in [0, 1)
 * @param beta2 AdamW second-moment decay, in [0, 1)
 * @param eps AdamW epsilon, > 0
 * @param gradClip global gradient-norm clip, > 0; null = off
 * @param lrSchedule {@code constant} or {@code cosine} (after warmup)
 * @param warmupSteps linear warmup steps from 0 to lr, >= 0
 * @param minLrRatio floor of the cosine schedule as a fraction of lr, in [0, 1]
 * @param promptBatch prompts drawn per step (before permutation copies)
 * @param miniBatch prompts per optimiser update; must divide promptBatch
 * @param microBatch sequences per forward/backward pass (gradient accumulation unit)
 * @param checkpointEvery steps between checkpoints
 * @param keepCheckpoints newest checkpoints kept on disk
 * @param evalEvery steps between evaluations; 0 = off
 * @param logRolloutsPerStep sample rollouts written to the log per step; 0 = none
 */
public record TrainerConfig(
    double lr,
    double weightDecay,
    double beta1,
    double beta2,
    double eps,
    Double gradClip,
    String lrSchedule,
    int warmupSteps,
    double minLrRatio,
    int promptBatch,
    int miniBatch,
    int microBatch,
    int checkpointEvery,
    int keepCheckpoints,
    int evalEvery,
    int logRolloutsPerStep)
    implements Serializable {

  public static final List<String> LR_SCHEDULES = Checks.list("constant", "cosine");

  public static TrainerConfig defaults() {
    return new TrainerConfig(
        1e-6, 0.01, 0.9, 0.999, 1e-8, 1.0, "constant", 0, 0.0, 128, 64, 8, 50, 3, 50, 4);
  }

  /** Optimiser updates per step: promptBatch / miniBatch (times ppoEpochs). */
  public int updatesPerEpoch() {
    return promptBatch / miniBatch;
  }

  void check(Checks c, String path) {
    c.positive(Checks.join(path, "lr"), lr);
    c.nonNegative(Checks.join(path, "weightDecay"), weightDecay);
    c.unitHalfOpen(Checks.join(path, "beta1"), beta1);
    c.unitHalfOpen(Checks.join(path, "beta2"), beta2);
    c.positive(Checks.join(path, "eps"), eps);
    if (gradClip != null && !(Double.isFinite(gradClip) && gradClip > 0)) {
      c.notAllowed(Checks.join(path, "gradClip"), gradClip, "must be > 0, or null to turn off");
    }
    c.oneOf(Checks.join(path, "lrSchedule"), lrSchedule, LR_SCHEDULES);
    c.atLeast(Checks.join(path, "warmupSteps"), warmupSteps, 0);
    c.unitClosed(Checks.join(path, "minLrRatio"), minLrRatio);
    c.atLeast(Checks.join(path, "promptBatch"), promptBatch, 1);
    c.atLeast(Checks.join(path, "miniBatch"), miniBatch, 1);
    if (miniBatch >= 1 && promptBatch >= 1) {
      if (miniBatch > promptBatch) {
        c.notAllowed(
            Checks.join(path, "miniBatch"),
            miniBatch,
            "must be <= " + Checks.join(path, "promptBatch") + " (" + promptBatch + ")");
      } else {
        c.divides(
            Checks.join(path, "miniBatch"),
            miniBatch,
            Checks.join(path, "promptBatch"),
            promptBatch);
      }
    }
    c.atLeast(Checks.join(path, "microBatch"), microBatch, 1);
    c.atLeast(Checks.join(path, "checkpointEvery"), checkpointEvery, 1);
    c.atLeast(Checks.join(path, "keepCheckpoints"), keepCheckpoints, 1);
    c.atLeast(Checks.join(path, "evalEvery"), evalEvery, 0);
    c.atLeast(Checks.join(path, "logRolloutsPerStep"), logRolloutsPerStep, 0);
  }
}
