package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.InitialParameters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The jobs run a Hugging Face Qwen2.5-VL checkpoint ({@code model.family=qwen2_5_vl}, {@code
 * model.path} a checkpoint folder): {@code perl sft}, {@code perl train}, {@code perl eval} and
 * {@code perl filter} end to end on the synthetic benchmark with the tiny fixture checkpoint (random
 * weights, Qwen's real tokenizer and chat template), in one local[2] Spark application at a time
 * (each command starts and stops its own session, as on the command line).
 */
class QwenJobsTest {
  @TempDir static Path dir;
  static Path config;

  @BeforeAll
  static void prepare() throws IOException {
    config = QwenJobsFixture.prepare(dir, "qwen-test", "",
        // Room for a whole response ("<think> img1 red circle no ... </think> \\boxed{2}").
        "rollout: {n: 4, maxNewTokens: 32}",
        "trainer: {lr: 1.0e-3, promptBatch: 2, miniBatch: 2, microBatch: 8, checkpointEvery: 1, evalEvery: 0}");
  }

  @AfterAll
  static void stop() {
    QwenJobsFixture.tearDown();
  }

  /** The example config loads and names the family (its model.path is a placeholder). */
  @Test
  void theExampleConfigSelectsQwen() {
    PerlConfig c = ConfigLoader.load(Path.of("..", "conf", "qwen-tiny.yaml"), List.of());
    assertEquals("qwen2_5_vl", c.model().family());
    assertEquals("builtin", c.model().tokenizer());
    assertTrue(c.model().path() != null && c.model().maxSeqLen() >= 256, c.model().toString());
  }

  /**
   * The runtime (with the Qwen recipe: model folder, Hadoop settings, config text) travels to
   * executors under the cluster templates' spark.kryo.registrationRequired.
   */
  @Test
  void theQwenRuntimeSurvivesKryoWithRegistrationRequired() {
    assertEquals("qwen2_5_vl", QwenJobsFixture.kryoRoundTrip(config).family());
  }


  /** Runs {@code perl <args>} in this JVM; returns the exit code, failing with stderr on a crash. */
  static int perl(String... args) {
    CommandLine cl = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("--master", "local[2]"));
    long t0 = System.nanoTime();
    int code = cl.execute(all.toArray(new String[0]));
    System.out.printf("perl %s: exit %d in %.1f s%n", args[0], code, (System.nanoTime() - t0) / 1e9);
    if (code != 0 && code != 3) {
      throw new AssertionError("perl " + String.join(" ", args) + " exited " + code + ": " + err);
    }
    return code;
  }

  @Test
  void sftTrainEvalAndFilterRunAQwenCheckpoint() throws Exception {
    long t0 = System.nanoTime();
    Path sft = dir.resolve("sft");
    assertEquals(0, perl("sft", "--config", config.toString(), "-i",
        dir.resolve("synth/sft").toString(), "-o", sft.toString(), "--steps", "20", "--batch", "8",
        "--lr", "3e-2", "--warmup", "0", "--checkpoint-every", "10", "--no-progress"));
    assertTrue(Files.isDirectory(sft.resolve("checkpoints")), "SFT wrote checkpoints");
    try (Stream<Path> cached = Files.list(dir.resolve("model-cache"))) {
      assertEquals(1, cached.filter(p -> !p.getFileName().toString().startsWith(".")).count(),
          "the model folder was copied into the cache once");
    }

    PerlConfig cfg = ConfigLoader.load(config, List.of("model.init=" + sft.resolve("checkpoints")));
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    Configuration hadoop = new Configuration();
    byte[] base = InitialParameters.load(null, runtime, hadoop);
    byte[] afterSft = InitialParameters.load(cfg.model().init(), runtime, hadoop);
    assertFalse(Arrays.equals(base, afterSft), "SFT changed the checkpoint's parameters");

    Path run = dir.resolve("run");
    int code = perl("train", "--config", config.toString(), "--no-progress", "--resume", "never",
        "model.init=" + sft.resolve("checkpoints"), "run.outputDir=" + run);
    List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertEquals(2, lines.size(), "one metrics line per step");
    ObjectMapper json = new ObjectMapper();
    double gradNorm = 0;
    boolean rewardsVaried = false;
    for (String l : lines) {
      JsonNode m = json.readTree(l);
      System.out.println("train step: " + l);
      assertTrue(m.has("reward_mean") && m.has("response_len_mean") && m.has("kl"), l);
      assertFalse(m.path("no_update").asBoolean(false), l);
      assertEquals(1, m.get("updates").asInt(), "one mini-batch update per step: " + l);
      assertEquals(0, m.get("updates_skipped").asInt(), "no non-finite gradient: " + l);
      gradNorm = Math.max(gradNorm, m.get("grad_norm").asDouble());
      rewardsVaried |= m.get("reward_std").asDouble() > 0 && m.get("pg_loss").asDouble() != 0;
    }
    assertEquals(0, code, "with the online filter off every step updates");
    // 20 SFT steps teach the tiny model the response format, so sampled answers differ in
    // correctness within a group: a real policy gradient, not only the KL term and weight decay.
    assertTrue(rewardsVaried, "some group had reward variance and a policy-gradient loss");
    assertTrue(gradNorm > 1e-2, "gradients reached the parameters: " + gradNorm);
    byte[] trained = InitialParameters.load(run.resolve("checkpoints").toString(), runtime, hadoop);
    assertFalse(Arrays.equals(afterSft, trained), "training changed the parameters");
    assertTrue(Files.size(run.resolve("rollouts.jsonl")) > 0, "rollouts logged");
    for (String l : Files.readAllLines(run.resolve("rollouts.jsonl")).subList(0, 2)) {
      System.out.println("rollout: " + l.substring(0, Math.min(400, l.length())));
      String response = json.readTree(l).get("response").asText();
      // Responses are decoded without special tokens (rewards parse this text).
      assertFalse(response.isEmpty() || response.contains("<|im_end|>")
          || response.contains("<|endoftext|>") || response.contains("<|vision_"), response);
    }

    Path eval = dir.resolve("eval");
    assertEquals(0, perl("eval", "--config", config.toString(), "--checkpoint",
        run.resolve("checkpoints").toString(), "-i", dir.resolve("synth/eval").toString(), "-o",
        eval.toString()));
    JsonNode report = json.readTree(eval.resolve("eval.json").toFile());
    assertTrue(report.size() > 0, "eval report written: " + report);

    Path filter = dir.resolve("filter");
    assertEquals(0, perl("filter", "--config", config.toString(), "--checkpoint",
        run.resolve("checkpoints").toString(), "-i", dir.resolve("synth/train").toString(), "-o",
        filter.toString()));
    assertTrue(Files.exists(filter.resolve("summary.json")), "filter summary written");
    System.out.printf("QwenJobsTest: sft + train + eval + filter in %.1f s (gradient norm max %s)%n",
        (System.nanoTime() - t0) / 1e9, gradNorm);
  }
}
