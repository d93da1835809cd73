package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.InitialParameters;
import io.perlspark.jobs.train.PerlTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA run of the tiny Qwen2.5-VL with a KL reference (klCoef > 0) on local[2,3]: a rollout task
 * that fails on its first attempt is retried with bitwise the same rollouts, metrics and final
 * adapters; and the executors (this JVM) build the base once for both runs and all their roles —
 * policy, reference and the gradient stage's — each role an adapter view of it.
 */
class QwenLoraRetryTest {
  @TempDir static Path dir;
  static Path config;
  static SparkSession spark;

  @BeforeAll
  static void prepare() throws Exception {
    config = QwenJobsFixture.prepare(dir, "qwen-lora-retry", "lora: {enabled: true, rank: 4, alpha: 8.0}",
        "rollout: {n: 4, maxNewTokens: 16, temperature: 1.5}",
        "trainer: {lr: 1.0e-2, promptBatch: 2, miniBatch: 2, microBatch: 8, checkpointEvery: 1, evalEvery: 0}",
        "algorithm: {klCoef: 0.05}");
    // A few SFT steps make B non-zero: the run starts from (and its KL reference is) an adapter
    // that changes the model, so retried rollouts and the KL gradient have something to differ in.
    assertEquals(0, QwenJobsTest.perl("sft", "--config", config.toString(), "-i",
        dir.resolve("synth/sft").toString(), "-o", dir.resolve("sft").toString(), "--steps", "3",
        "--batch", "8", "--lr", "5e-2", "--warmup", "0", "--checkpoint-every", "3", "--no-progress"));
    // local[N,F]: local mode retries a failed task up to F-1 times (plain local[N] never retries)
    spark = SparkSessions.create("QwenLoraRetryTest", "local[2,3]");
  }

  @AfterAll
  static void stop() {
    QwenJobsFixture.tearDown();
  }

  @Test
  void aRetriedRolloutTaskGivesTheSameLoraRunAndTheBaseIsBuiltOnce() throws Exception {
    PerlConfig cleanConfig = ConfigLoader.load(config, List.of("run.outputDir=" + dir.resolve("clean"),
        "model.init=" + dir.resolve("sft/checkpoints")));
    assertTrue(cleanConfig.algorithm().klCoef() > 0, "the run has a KL reference");
    PolicyRuntime runtime = PolicyRuntime.from(cleanConfig.model(), cleanConfig.run().seed());
    assertTrue(runtime.recipe().trainsLora());
    byte[] initial = InitialParameters.load(cleanConfig.model().init(), runtime, new Configuration());
    assertFalse(Arrays.equals(runtime.initialParameters(), initial), "SFT moved the adapters");
    long referenceLoads = ExecutorModelCache.loads("reference");

    PerlTrainer.Result clean = new PerlTrainer(spark, cleanConfig,
        new PerlTrainer.Options("never", null, null, false)).run();

    int[] failedTasks = {0};
    SparkListener listener = new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
          failedTasks[0]++;
        }
      }
    };
    spark.sparkContext().addSparkListener(listener);
    PerlTrainer.Result faulty;
    try {
      faulty = new PerlTrainer(spark,
          ConfigLoader.load(config, List.of("run.outputDir=" + dir.resolve("faulty"),
              "model.init=" + dir.resolve("sft/checkpoints"))),
          new PerlTrainer.Options("never", "1:0", null, false)).run();
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
    assertTrue(failedTasks[0] >= 1, "the injected failure happened");
    assertFalse(Arrays.equals(initial, clean.parameters()), "the run moved the adapters");
    assertEquals(initial.length, clean.parameters().length, "the parameters are the adapters");
    assertArrayEquals(clean.parameters(), faulty.parameters(), "same adapters after the retried step");
    List<String> metrics = metrics(clean.outputDir());
    assertEquals(metrics, metrics(faulty.outputDir()), "same metrics in every step");
    assertTrue(metrics.get(1).matches(".*;kl=[0-9.eE-]+;.*") && !metrics.get(1).contains(";kl=0.0;"),
        "step 2's policy moved off the reference: the KL term is live: " + metrics.get(1));
    List<String> rollouts = Files.readAllLines(clean.outputDir().resolve("rollouts.jsonl"));
    assertFalse(rollouts.isEmpty());
    assertEquals(rollouts, Files.readAllLines(faulty.outputDir().resolve("rollouts.jsonl")),
        "the logged rollouts are identical");

    assertTrue(ExecutorModelCache.loads("reference") - referenceLoads >= 2,
        "each run's rollouts took the reference (its initial adapters) from the cache");
    assertEquals(1, ExecutorModelCache.builds(runtime),
        "one base for the policy, reference and gradient roles of both runs");
  }

  /** Every metric of every step except timings and rates ({@code t_*}, {@code *_s}: they vary). */
  static List<String> metrics(Path run) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode m = json.readTree(line);
      StringBuilder kept = new StringBuilder();
      m.fields().forEachRemaining(e -> {
        String k = e.getKey();
        if (!k.startsWith("t_") && !k.endsWith("_s")) {
          kept.append(k).append('=').append(e.getValue()).append(';');
        }
      });
      out.add(kept.toString());
    }
    return out;
  }
}
