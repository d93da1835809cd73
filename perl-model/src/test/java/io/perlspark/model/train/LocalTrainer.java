package io.perlspark.model.train;

import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.PolicyModel;
import java.util.List;
import java.util.Objects;

/**
 * The whole update in one JVM, for tests, benchmarks and single-machine runs: {@link
 * GradientWorker} on the whole mini-batch (one partition), then the update path every trainer
 * shares ({@link PolicyUpdater}). The same pieces the Spark loop distributes, so a one-partition
 * Spark run and this trainer do the same arithmetic.
 */
public final class LocalTrainer {
  private final PolicyUpdater updater;
  private final int microBatch;

  /** The outcome of one update. */
  public record Step(GradientResult gradients, StepReport update) {}

  /**
   * @param optimizer over the model's flat parameters (same size)
   * @param microBatch sequences per forward/backward pass
   */
  public LocalTrainer(PolicyModel model, DriverOptimizer optimizer, int microBatch) {
    this.updater = new PolicyUpdater(model, optimizer);
    if (microBatch < 1) {
      throw new IllegalArgumentException("microBatch must be >= 1, got " + microBatch);
    }
    this.microBatch = microBatch;
  }

  /** A trainer whose optimizer starts from the model's current parameters. */
  public static LocalTrainer create(
      PolicyModel model, AdamW adamW, LrSchedule schedule, Double maxGradNorm, int microBatch) {
    return new LocalTrainer(
        model, new DriverOptimizer(model.flatParameters(), adamW, schedule, maxGradNorm),
        microBatch);
  }

  /** One GRPO update on {@code examples} as one mini-batch (its own global normaliser). */
  public Step grpoStep(List<TrainingExample> examples, GrpoLossConfig cfg, float temperature) {
    Objects.requireNonNull(cfg, "cfg");
    double normaliser = GradientWorker.normaliser(examples, cfg.aggregation());
    GradientResult g =
        GradientWorker.grpoGradients(model(), examples, cfg, normaliser, microBatch, temperature);
    return apply(g);
  }

  /** One SFT update on {@code examples} as one mini-batch (token-mean). */
  public Step sftStep(List<SftExample> examples) {
    double normaliser = GradientWorker.sftNormaliser(examples);
    return apply(GradientWorker.sftGradients(model(), examples, normaliser, microBatch));
  }

  private Step apply(GradientResult g) {
    // The update clips in place; the returned gradient stays as computed.
    return new Step(g, updater.apply(g.gradient().clone()));
  }

  public PolicyModel model() {
    return updater.model();
  }

  public DriverOptimizer optimizer() {
    return updater.optimizer();
  }

  public int microBatch() {
    return microBatch;
  }
}
