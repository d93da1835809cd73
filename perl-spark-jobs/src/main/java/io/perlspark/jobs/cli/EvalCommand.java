package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.eval.Evaluator;
import io.perlspark.jobs.report.Charts;
import io.perlspark.jobs.report.EvalReports;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.InitialParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluates a policy checkpoint on one or more splits.",
        "",
        "Accuracy per family and split, permutation consistency, positional bias and",
        "format rate; writes eval.json, eval.md and PNG plots."})
final class EvalCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;
  @Mixin ConfigOptions config;

  @Option(names = "--checkpoint", description = "checkpoint folder (a run's folder, its checkpoints/, or one step-N/); default model.init")
  String checkpoint;

  @Option(names = {"-i", "--input"}, split = ",", description = "eval splits (default: eval.splits of the config)")
  List<String> inputs;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder")
  String out;

  @Option(names = "--title", defaultValue = "PeRL-Spark evaluation")
  String title;

  @Override
  public Integer call() {
    PerlConfig cfg = config.load();
    List<String> paths = new ArrayList<>();
    List<String> given = inputs != null ? inputs : cfg.eval().splits().stream().map(d -> d.path()).toList();
    if (given.isEmpty()) {
      throw new PerlUserException("no eval data: give --input or eval.splits in the config");
    }
    for (String p : given) {
      String resolved = DataPaths.resolve(p, new Configuration());
      if (resolved == null) {
        throw new PerlUserException("--input " + p + ": does not exist");
      }
      paths.add(resolved);
    }
    String init = checkpoint != null ? checkpoint : cfg.model().init();
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    byte[] params = InitialParameters.load(init, checkpoint != null ? "--checkpoint" : "model.init", runtime, new Configuration());
    SparkSession session = SparkSessions.create("perl eval", spark.master);
    try {
      EvalReport report = new Evaluator(runtime, Evaluator.Settings.from(cfg)).evaluate(session, params, "eval",
          Evaluator.splits(paths));
      Path dir = Path.of(out);
      EvalReports.write(report, dir, title);
      Charts.accuracyByPosition(dir.resolve("accuracy_by_position.png"), Map.of(title, report));
      if (init != null) {
        Path metrics = Path.of(init).resolve("metrics.jsonl");
        if (Files.exists(metrics)) {
          Charts.metricsCurves(metrics, dir, List.of("reward_mean", "accuracy_mean", "val/accuracy", "val/accuracy_multi"));
        }
      }
      System.out.println(EvalReports.toMarkdown(report, title));
      System.out.println("wrote " + dir.resolve(EvalReports.JSON_FILE) + " and " + dir.resolve(EvalReports.MARKDOWN_FILE));
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      session.stop();
    }
  }
}
