package io.perlspark.model.train;

import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.policy.PolicyModel;
import java.util.Objects;

/**
 * The one way an update reaches a policy, shared by RL ({@code PerlTrainer}), SFT ({@code
 * SftTrainer}) and {@link LocalTrainer}: the summed gradient is clipped and AdamW-stepped by the
 * {@link DriverOptimizer}, the new parameters are written back into the model, and a run whose
 * gradients stay non-finite is stopped. Where the gradient came from (executors or this JVM) is the
 * caller's business.
 *
 * <p>Not thread-safe; the driver calls it from one thread.
 */
public final class PolicyUpdater {
  private final PolicyModel model;
  private final DriverOptimizer optimizer;

  /** @param optimizer over the model's flat parameters (same size) */
  public PolicyUpdater(PolicyModel model, DriverOptimizer optimizer) {
    this.model = Objects.requireNonNull(model, "model");
    this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
    if (optimizer.size() != model.parameterCount()) {
      throw new IllegalArgumentException("the optimizer holds " + optimizer.size()
          + " parameters but the model has " + model.parameterCount());
    }
  }

  /** An updater whose optimizer starts from the model's current parameters. */
  public static PolicyUpdater create(PolicyModel model, AdamW adamW, LrSchedule schedule, Double maxGradNorm) {
    return new PolicyUpdater(model, new DriverOptimizer(model.flatParameters(), adamW, schedule, maxGradNorm));
  }

  /**
   * Applies one mini-batch update: clip, AdamW at the scheduled learning rate, write back. A
   * skipped step (non-finite gradient) leaves the model as it was; the tenth in a row stops the
   * run ({@link DriverOptimizer#requireProgress}).
   *
   * @param summedGradient the mini-batch's gradient in the model's flat layout; clipped in place
   */
  public StepReport apply(float[] summedGradient) {
    StepReport report = optimizer.step(summedGradient);
    optimizer.requireProgress();
    if (!report.skipped()) {
      model.setFlatParameters(optimizer.params());
    }
    return report;
  }

  /**
   * Puts the model and the optimizer back to a checkpoint's state: its parameters (already loaded
   * into the model), AdamW's moments and the step counter. The continuation is bit-identical to
   * the run that wrote the checkpoint.
   */
  public void restore(AdamW.State adamState, long optimizerSteps) {
    optimizer.restore(model.flatParameters(), adamState, optimizerSteps);
  }

  public PolicyModel model() {
    return model;
  }

  public DriverOptimizer optimizer() {
    return optimizer;
  }
}
