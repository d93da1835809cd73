package io.perlspark.jobs.cli;

import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.demo.DemoPipeline;
import io.perlspark.jobs.spark.SparkSessions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs the whole embedded demo on local Spark and compares the policies.",
        "",
        "synth -> sft -> filter -> train (PeRL) -> eval, then a table comparing the",
        "warm-started and the trained policy. Re-running continues where it stopped."})
final class DemoCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;

  @Option(names = {"-c", "--config"}, defaultValue = "conf/demo.yaml", description = "run config (default: ${DEFAULT-VALUE})")
  Path config;

  @Option(names = {"-o", "--out"}, defaultValue = "runs/demo", description = "output folder (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--train-rows", defaultValue = "2000")
  long trainRows;

  @Option(names = "--eval-rows", defaultValue = "1200")
  long evalRows;

  @Option(names = "--sft-rows", defaultValue = "5000")
  long sftRows;

  @Option(names = "--bias", defaultValue = "0.8", description = "train/SFT positional bias (default: ${DEFAULT-VALUE})")
  double bias;

  @Option(names = "--families", split = ",", defaultValue = "which_image=0.8,single=0.2",
      description = "task family weights of every split, as for `perl synth` (default: ${DEFAULT-VALUE})")
  List<String> families;

  @Option(names = "--sft-steps", defaultValue = "1000",
      description = "SFT steps (default: ${DEFAULT-VALUE}; at 600 the tiny model may not yet answer from its trace)")
  int sftSteps;

  @Option(names = "--sft-batch", defaultValue = "64")
  int sftBatch;

  @Option(names = "--sft-lr", defaultValue = "2e-3")
  double sftLr;

  @Option(names = "--no-progress")
  boolean noProgress;

  @Parameters(paramLabel = "KEY=VALUE", description = "config overrides for the training run, e.g. stages[0].steps=50")
  List<String> overrides;

  @Override
  public Integer call() throws Exception {
    if (!Files.exists(config)) {
      throw new PerlUserException("--config " + config + ": no such file (run from the project folder, or pass --config)");
    }
    Map<String, Double> weights = SynthCommand.familyWeights(families);
    try {
      SynthOptions.defaults().toBuilder().setFamilyWeightsByName(weights).build();
    } catch (IllegalArgumentException e) {
      throw new PerlUserException("--families: " + e.getMessage(), e);
    }
    SparkSession session = SparkSessions.create("perl demo", spark.master);
    try {
      String table = new DemoPipeline(session, new DemoPipeline.Settings(config, out, trainRows, evalRows, sftRows, bias,
          weights, sftSteps, sftBatch, sftLr, overrides == null ? List.of() : overrides, !noProgress)).run();
      System.out.println();
      System.out.println(table);
      System.out.println("results, checkpoints, eval reports and plots in " + out);
      return 0;
    } finally {
      session.stop();
    }
  }
}
