package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.InitialParameters;
import io.perlspark.jobs.train.Preflight;
import io.perlspark.model.lora.PeftAdapterIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA run of a Qwen2.5-VL checkpoint ({@code model.lora.enabled=true}) through {@code perl
 * train} on local[2]: only adapters are broadcast and checkpointed (far smaller than the base), and
 * training changes them; a full fine-tune above {@code model.maxFullFineTuneParams} is refused
 * before Spark starts.
 */
class QwenLoraJobsTest {
  @TempDir static Path dir;
  static Path model;
  static Path config;

  @BeforeAll
  static void prepare() throws IOException {
    model = dir.resolve("qwen-tiny");
    config = QwenJobsFixture.prepare(dir, "qwen-lora-test", "lora: {enabled: true, rank: 4, alpha: 8.0}",
        "rollout: {n: 4, maxNewTokens: 32, temperature: 1.5}",
        "trainer: {lr: 1.0e-2, promptBatch: 2, miniBatch: 2, microBatch: 8, checkpointEvery: 1, evalEvery: 0}");
  }

  @AfterAll
  static void stop() {
    QwenJobsFixture.tearDown();
  }

  /** A LoRA runtime (recipe + LoRA settings + seed) travels to executors under Kryo. */
  @Test
  void theLoraRuntimeSurvivesKryoWithRegistrationRequired() {
    assertTrue(QwenJobsFixture.kryoRoundTrip(config).recipe().trainsLora());
  }


  @Test
  void aFullFineTuneAboveTheLimitIsRefusedBeforeSpark() {
    PerlConfig full = ConfigLoader.load(config, List.of("model.lora.enabled=false",
        "model.maxFullFineTuneParams=1000000"));
    ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
        () -> Preflight.forTraining(full));
    assertEquals(List.of("model.maxFullFineTuneParams"), e.keys());
    assertTrue(e.getMessage().contains("model.lora.enabled: true"), e.getMessage());
    assertEquals(List.of("model.maxFullFineTuneParams"), org.junit.jupiter.api.Assertions
        .assertThrows(ConfigException.class, () -> Preflight.forFineTuning(full)).keys(), "sft");
    // the same model with LoRA passes
    Preflight.forTraining(ConfigLoader.load(config, List.of("model.maxFullFineTuneParams=1000000")));
    Preflight.forFineTuning(ConfigLoader.load(config,
        List.of("model.maxFullFineTuneParams=1000000")));
  }

  @Test
  void aLoraRunTrainsAndCheckpointsOnlyTheAdapters() throws Exception {
    long t0 = System.nanoTime();
    // SFT of the adapters, then GRPO from its checkpoint (model.init holds adapter bytes too).
    Path sft = dir.resolve("sft");
    assertEquals(0, QwenJobsTest.perl("sft", "--config", config.toString(), "-i",
        dir.resolve("synth/sft").toString(), "-o", sft.toString(), "--steps", "20", "--batch", "8",
        "--lr", "5e-2", "--warmup", "0", "--checkpoint-every", "10", "--no-progress"));
    List<String> sftLines = Files.readAllLines(sft.resolve("metrics.jsonl"));
    ObjectMapper json = new ObjectMapper();
    double firstLoss = json.readTree(sftLines.get(0)).get("loss").asDouble();
    double lastLoss = json.readTree(sftLines.get(sftLines.size() - 1)).get("loss").asDouble();
    System.out.printf("LoRA SFT loss %.4f -> %.4f over %d steps%n", firstLoss, lastLoss,
        sftLines.size());
    assertTrue(lastLoss < firstLoss, "SFT of the adapters lowered the loss");
    Path run = dir.resolve("run");
    int code = QwenJobsTest.perl("train", "--config", config.toString(), "--no-progress",
        "--resume", "never", "model.init=" + sft.resolve("checkpoints"), "run.outputDir=" + run);
    List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertEquals(2, lines.size(), "one metrics line per step");
    double gradNorm = 0;
    for (String l : lines) {
      JsonNode m = json.readTree(l);
      System.out.println("LoRA train step: " + l);
      assertEquals(0, m.path("updates_skipped").asInt(0), "no non-finite gradient: " + l);
      gradNorm = Math.max(gradNorm, m.path("grad_norm").asDouble(0));
    }
    assertEquals(0, code, "with the online filter off every step updates");

    PerlConfig cfg = ConfigLoader.load(config, List.of());
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    PolicyRuntime full = PolicyRuntime.from(ConfigLoader.load(config,
        List.of("model.lora.enabled=false")).model(), cfg.run().seed());
    Configuration hadoop = new Configuration();
    byte[] fresh = InitialParameters.load(null, runtime, hadoop);
    byte[] initial = InitialParameters.load(sft.resolve("checkpoints").toString(), runtime, hadoop);
    assertFalse(Arrays.equals(fresh, initial), "SFT changed the adapters");
    byte[] base = InitialParameters.load(null, full, hadoop);
    byte[] trained = InitialParameters.load(run.resolve("checkpoints").toString(), runtime, hadoop);
    System.out.printf("LoRA run: %d adapter bytes per broadcast/checkpoint vs %d base bytes"
        + " (gradient norm max %s) in %.1f s%n", trained.length, base.length, gradNorm,
        (System.nanoTime() - t0) / 1e9);
    assertEquals(initial.length, trained.length, "the checkpoint holds the run's adapters");
    assertTrue(trained.length * 100L < base.length, "adapters are far smaller than the base");
    assertFalse(Arrays.equals(initial, trained), "training changed the adapters");
    // The tiny random model earns no reward within 20 SFT steps of rank-4 adapters (no policy
    // gradient); step 2's gradient is the KL term's (step 1 moved the policy off the reference
    // through weight decay on A), computed on the executors and applied to the adapters.
    assertTrue(gradNorm > 0, "gradients reached the adapters: " + gradNorm);

    // perl export: the checkpoint's adapters as a PEFT folder, bit for bit
    Path peft = dir.resolve("peft");
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = io.perlspark.jobs.cli.PerlCli.commandLine();
    cli.setErr(new java.io.PrintWriter(err, true));
    assertEquals(0, cli.execute("export", "--config", config.toString(), "--checkpoint",
        run.resolve("checkpoints").toString(), "-o", peft.toString()), err::toString);
    try (PeftAdapterIO.Adapter read = PeftAdapterIO.read(peft,
        io.perlspark.model.family.qwen25vl.Qwen25VlPeftNames.INSTANCE)) {
      assertArrayEquals(trained, read.adapters().toBytes(), "exported adapters = checkpoint's");
      assertEquals(model.toUri().toString(), read.baseModelNameOrPath());
      assertEquals(4, read.config().r());
      assertEquals(8.0, read.config().alpha());
    }
    Path merged = dir.resolve("merged");
    assertEquals(0, cli.execute("export", "--config", config.toString(), "--checkpoint",
        run.resolve("checkpoints").toString(), "-o", merged.toString(), "--merge", "--dtype",
        "float32"), err::toString);
    assertTrue(Files.exists(merged.resolve("model.safetensors")), "merged weights written");
    assertTrue(Files.exists(merged.resolve("config.json")), "config copied");
    JsonNode adapterConfig = json.readTree(peft.resolve(PeftAdapterIO.CONFIG_FILE).toFile());
    assertEquals("LORA", adapterConfig.get("peft_type").asText());
    // a full fine-tuning config has no adapters to export: a user error, nothing written
    Path none = dir.resolve("peft-none");
    int refused = io.perlspark.jobs.cli.PerlCli.commandLine().execute("export", "--config",
        config.toString(), "--checkpoint", run.resolve("checkpoints").toString(), "-o",
        none.toString(), "model.lora.enabled=false");
    assertTrue(refused != 0, "exit " + refused);
    assertFalse(Files.exists(none.resolve(PeftAdapterIO.CONFIG_FILE)));
  }
}
