package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.PerlUserException;
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
    description = {"Trains a policy with PeRL or GRPO on Spark.",
        "",
        "Rollouts run on executors, the original prompt and its permuted copies form",
        "one group, the online filter drops groups without signal, gradients are summed",
        "on the driver and AdamW updates the policy. Checkpoints and metrics go to",
        "run.outputDir. A run in which no step updated the policy (every group dropped)",
        "exits with code 3 unless --allow-no-update."})
final class TrainCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;
  @Mixin ConfigOptions config;

  @Option(names = "--resume", defaultValue = "auto",
      description = "auto: continue from the newest valid checkpoint in run.outputDir; never: start fresh")
  String resume;

  @Option(names = "--no-progress", description = "no console progress bar")
  boolean noProgress;

  @Option(names = "--allow-no-update",
      description = "exit 0 even when no step updated the policy (e.g. a smoke run on data without signal)")
  boolean allowNoUpdate;

  /** Exit code of a run that finished without ever updating the policy. */
  static final int NO_UPDATE = 3;

  @Option(names = "--test-fail-rollout-once", hidden = true, description = "STEP:PARTITION (tests only)")
  String failOnce;

  /**
   * A run whose steps never updated the policy finished without training: said on the console, and
   * exit code {@link #NO_UPDATE} unless the user asked for that.
   */
  static int noUpdateCheck(PerlTrainer.Result r, boolean allowed) {
    if (r.steps() == 0 || r.stepsUpdated() > 0) {
      return 0;
    }
    System.err.println("perl train: no step of this run updated the policy (" + r.steps() + " steps; every group was"
        + " dropped by the online filter: no reward variance). The parameters are unchanged. Check the data's"
        + " difficulty (perl filter), rollout.n, the permutation settings and filter.online"
        + (allowed ? "" : "; pass --allow-no-update to accept such a run"));
    return allowed ? 0 : NO_UPDATE;
  }

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
      return noUpdateCheck(r, allowNoUpdate);
    } finally {
      session.stop();
    }
  }
}
