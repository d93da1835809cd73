package io.perlspark.jobs.demo;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.eval.Evaluator;
import io.perlspark.jobs.eval.Validations;
import io.perlspark.jobs.filter.DifficultyFilterJob;
import io.perlspark.jobs.report.Charts;
import io.perlspark.jobs.report.ComparisonTable;
import io.perlspark.jobs.report.EvalReports;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.synth.SynthJob;
import io.perlspark.jobs.train.InitialParameters;
import io.perlspark.jobs.train.PerlTrainer;
import io.perlspark.jobs.train.SftTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The whole embedded demo on one Spark session: synth → SFT warm start → offline difficulty filter →
 * PeRL training → evaluation of the warm start and the trained policy → a comparison table. Each
 * phase whose output already exists is reused, so an interrupted demo continues where it stopped.
 */
public final class DemoPipeline {
  /** Sizes of the demo (defaults per CALIBRATION.md, trimmed to fit 2 CPU cores). */
  public record Settings(Path configFile, Path out, long trainRows, long evalRows, long sftRows, double bias,
      Map<String, Double> families, int sftSteps, int sftBatch, double sftLr, List<String> overrides, boolean progress) {}

  private final SparkSession spark;
  private final Settings s;

  public DemoPipeline(SparkSession spark, Settings s) {
    this.spark = spark;
    this.s = s;
  }

  /** Runs every phase; returns the comparison table (Markdown). */
  public String run() throws IOException {
    long t0 = System.nanoTime();
    Path data = s.out().resolve("data");
    Map<String, Double> seconds = new LinkedHashMap<>();

    long t = System.nanoTime();
    if (!Files.exists(data.resolve("synth"))) {
      SynthOptions options = SynthOptions.defaults().toBuilder().setTrainPositionBias(s.bias())
          .setFamilyWeightsByName(s.families()).build();
      SynthJob.run(spark, options, 1234, new SynthJob.Sizes(s.trainRows(), s.evalRows(), s.sftRows()),
          data.resolve("synth").toString(), spark.sparkContext().defaultParallelism(), false);
    }
    seconds.put("synth", secs(t));

    boolean offlineFilter = ConfigLoader.load(s.configFile(), s.overrides()).filter().offline().enabled();
    Path trainData = offlineFilter ? data.resolve("filtered") : data.resolve("synth/train");
    List<String> overrides = new ArrayList<>();
    overrides.add("run.outputDir=" + s.out().resolve("train"));
    overrides.add("stages[0].data=[{path: " + trainData + "}]");
    overrides.add("eval.splits=[{path: " + data.resolve("synth/eval") + "}]");
    overrides.addAll(s.overrides());
    PerlConfig base = ConfigLoader.load(s.configFile(), overrides);
    PolicyRuntime runtime = PolicyRuntime.from(base.model(), base.run().seed());

    t = System.nanoTime();
    Path sft = s.out().resolve("sft");
    if (!Files.exists(sft.resolve("checkpoints"))) {
      new SftTrainer(spark, base, new SftTrainer.Options(data.resolve("synth/sft").toString(), sft.toString(),
          s.sftSteps(), s.sftBatch(), s.sftLr(), Math.min(50, s.sftSteps() / 10), s.sftSteps(), s.progress())).run();
    }
    seconds.put("sft", secs(t));
    List<String> withInit = new ArrayList<>(overrides);
    withInit.add("model.init=" + sft.resolve("checkpoints"));
    PerlConfig cfg = ConfigLoader.load(s.configFile(), withInit);
    byte[] warm = InitialParameters.load(cfg.model().init(), runtime, spark.sparkContext().hadoopConfiguration());

    t = System.nanoTime();
    if (offlineFilter && !Files.exists(data.resolve("filtered"))) {
      DifficultyFilterJob.Summary f = DifficultyFilterJob.run(spark, cfg, warm, data.resolve("synth/train").toString(),
          data.resolve("filtered").toString(), false);
      System.out.printf("offline filter: %,d prompts, kept %,d (too easy %,d, too hard %,d)%n", f.prompts(), f.kept(),
          f.tooEasy(), f.tooHard());
    }
    seconds.put("filter", secs(t));

    t = System.nanoTime();
    PerlTrainer.Result trained = new PerlTrainer(spark, cfg, new PerlTrainer.Options("auto", null,
        Validations.forConfig(spark, cfg), s.progress())).run();
    seconds.put("train", secs(t));

    t = System.nanoTime();
    Evaluator evaluator = new Evaluator(runtime, Evaluator.Settings.from(cfg));
    Map<String, String> splits = Map.of("eval", data.resolve("synth/eval").toString());
    Map<String, EvalReport> reports = new LinkedHashMap<>();
    reports.put("warm start (SFT)", evaluator.evaluate(spark, warm, "demo-warm", splits));
    reports.put("PeRL (trained)", evaluator.evaluate(spark, trained.parameters(), "demo-trained", splits));
    seconds.put("eval", secs(t));

    Path evalDir = s.out().resolve("eval");
    EvalReports.write(reports.get("warm start (SFT)"), evalDir.resolve("warm"), "Warm start (SFT)");
    EvalReports.write(reports.get("PeRL (trained)"), evalDir.resolve("trained"), "PeRL (trained)");
    Charts.accuracyByPosition(evalDir.resolve("accuracy_by_position.png"), reports);
    Charts.metricsCurves(trained.outputDir().resolve("metrics.jsonl"), evalDir,
        List.of("reward_mean", "accuracy_mean", "val/accuracy_multi", "val/bias_gap"));
    String table = ComparisonTable.markdown(reports, null);
    StringBuilder md = new StringBuilder("# PeRL-Spark demo\n\n").append(table).append("\n\nSeconds per phase: ");
    seconds.forEach((k, v) -> md.append(String.format("%s %.0f, ", k, v)));
    md.append(String.format("total %.0f%n", secs(t0)));
    Files.writeString(s.out().resolve("RESULTS.md"), md.toString());
    return md.toString();
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

}
