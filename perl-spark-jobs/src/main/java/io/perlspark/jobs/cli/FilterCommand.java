package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.filter.DifficultyFilterJob;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.InitialParameters;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "filter", mixinStandardHelpOptions = true,
    description = {"Removes prompts that are too easy or too hard for the policy.",
        "",
        "Offline difficulty filter: the policy answers each prompt",
        "filter.offline.rollouts times; prompts with a pass rate outside",
        "[filter.offline.minAcc, maxAcc] are removed."})
final class FilterCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;
  @Mixin ConfigOptions config;

  @Option(names = {"-i", "--input"}, required = true, description = "prompts (canonical Parquet or a prepare output)")
  String input;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder: data/, pass_rates/, summary.json")
  String out;

  @Option(names = "--checkpoint", description = "policy checkpoint (default: model.init; else a fresh model)")
  String checkpoint;

  @Option(names = "--overwrite")
  boolean overwrite;

  @Override
  public Integer call() {
    PerlConfig cfg = config.load();
    String data = DataPaths.resolve(input, new Configuration());
    if (data == null) {
      throw new PerlUserException("--input " + input + ": does not exist");
    }
    String init = checkpoint != null ? checkpoint : cfg.model().init();
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    byte[] params = InitialParameters.load(init, runtime, new Configuration());
    SparkSession session = SparkSessions.create("perl filter", spark.master);
    try {
      DifficultyFilterJob.Summary s = DifficultyFilterJob.run(session, cfg, params, data, out, overwrite);
      System.out.printf("prompts %,d  kept %,d  too easy %,d  too hard %,d  -> %s/data%n", s.prompts(), s.kept(),
          s.tooEasy(), s.tooHard(), out);
      return 0;
    } finally {
      session.stop();
    }
  }
}
