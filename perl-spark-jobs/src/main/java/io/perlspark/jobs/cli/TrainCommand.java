package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.PerlTrainer;
import io.perlspark.jobs.train.Preflight;
import io.perlspark.jobs.eval.Validations;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"PeRL / GRPO training on Spark: rollouts on executors, permutation groups, online",
        "filtering, distributed gradients, AdamW on the driver; checkpoints and metrics in run.outputDir."})
final class TrainCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;
  @Mixin ConfigOptions config;

  @Option(names = "--resume", defaultValue = "auto",
      description = "auto: continue from the newest valid checkpoint in run.outputDir; never: start fresh")
  String resume;

  @Option(names = "--no-progress", description = "no console progress bar")
  boolean noProgress;

  @Option(names = "--test-fail-rollout-once", hidden = true, description = "STEP:PARTITION (tests only)")
  String failOnce;

  @Override
  public Integer call() {
    if (!resume.equals("auto") && !resume.equals("never")) {
      throw new PerlUserException("--resume " + resume + ": allowed: auto, never");
    }
    PerlConfig cfg = config.load();
    Preflight.forTraining(cfg);
    SparkSession session = SparkSessions.create("perl train " + cfg.run().name(), spark.master);
    try {
      PerlTrainer.Result r = new PerlTrainer(session, cfg,
          new PerlTrainer.Options(resume, failOnce, Validations.forConfig(session, cfg), !noProgress)).run();
      System.out.println("trained " + r.steps() + " steps; checkpoints, metrics.jsonl and rollouts.jsonl in " + r.outputDir());
      return 0;
    } finally {
      session.stop();
    }
  }
}
