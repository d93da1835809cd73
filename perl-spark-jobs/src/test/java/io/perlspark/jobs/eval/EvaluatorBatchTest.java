package io.perlspark.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.synth.SynthJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval.samplesPerCall} changes how samples are batched on executors, never the report. */
class EvaluatorBatchTest {
  @TempDir static Path dir;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("EvaluatorBatchTest", "local[2]");
    SynthJob.run(spark, SynthOptions.defaults(), 5, new SynthJob.Sizes(0, 40, 0),
        dir.resolve("synth").toString(), 2, false);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void reportIsTheSameForEveryBatchSize() throws Exception {
    Path config = dir.resolve("run.yaml");
    Files.writeString(config, "run: {seed: 3}\nrollout: {maxNewTokens: 12}\neval: {permutationsPerSample: 3}\n");
    Map<String, String> splits = Map.of("eval", dir.resolve("synth/eval").toString());
    EvalReport reference = null;
    for (int samplesPerCall : List.of(64, 7)) {
      PerlConfig cfg = ConfigLoader.load(config, List.of("eval.samplesPerCall=" + samplesPerCall));
      assertEquals(samplesPerCall, cfg.eval().samplesPerCall());
      PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
      EvalReport report = new Evaluator(runtime, Evaluator.Settings.from(cfg))
          .evaluate(spark, runtime.initialParameters(), "v" + samplesPerCall, splits);
      assertTrue(report.records() > 40, "each multi-image sample under several orders: " + report.records());
      if (reference == null) {
        reference = report;
      } else {
        assertEquals(reference, report, "samplesPerCall=" + samplesPerCall);
      }
    }
  }
}
