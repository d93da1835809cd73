package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.SftTrainer;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sft", mixinStandardHelpOptions = true,
    description = {"Warm-starts a policy by supervised training on rows with a response.",
        "",
        "Data-parallel on Spark (e.g. on the synth sft split). The model, seed and",
        "AdamW settings come from the run config."})
final class SftCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;
  @Mixin ConfigOptions config;

  @Option(names = {"-i", "--input"}, required = true, description = "SFT rows (canonical Parquet with 'response')")
  String input;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder (checkpoints/, metrics.jsonl)")
  String out;

  @Option(names = "--steps", defaultValue = "800")
  int steps;

  @Option(names = "--batch", defaultValue = "64")
  int batch;

  @Option(names = "--lr", defaultValue = "2e-3")
  double lr;

  @Option(names = "--warmup", defaultValue = "20")
  int warmup;

  @Option(names = "--checkpoint-every", defaultValue = "200")
  int checkpointEvery;

  @Option(names = "--no-progress")
  boolean noProgress;

  @Override
  public Integer call() {
    if (steps < 1 || batch < 1 || !(lr > 0) || warmup < 0 || checkpointEvery < 1) {
      throw new PerlUserException("--steps, --batch, --checkpoint-every must be >= 1, --lr > 0, --warmup >= 0");
    }
    if (warmup >= steps) {
      throw new PerlUserException("--warmup " + warmup + ": must be below --steps " + steps);
    }
    PerlConfig cfg = config.load();
    io.perlspark.jobs.train.Preflight.forFineTuning(cfg); // a too-large full fine-tune stops here
    String data = DataPaths.resolve(input, new Configuration());
    if (data == null) {
      throw new PerlUserException("--input " + input + ": does not exist");
    }
    SparkSession session = SparkSessions.create("perl sft", spark.master);
    try {
      new SftTrainer(session, cfg, new SftTrainer.Options(data, out, steps, batch, lr, warmup, checkpointEvery,
          !noProgress)).run();
      System.out.println("SFT done: " + steps + " steps; checkpoints in " + out + "/checkpoints");
      return 0;
    } finally {
      session.stop();
    }
  }
}
