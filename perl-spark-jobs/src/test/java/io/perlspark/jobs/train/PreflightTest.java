package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model's folder and family are checked with the data paths, before any Spark work. */
class PreflightTest {
  @TempDir Path tmp;

  private PerlConfig config(String... model) throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("part-0.parquet"), "x");
    List<String> overrides = new java.util.ArrayList<>(List.of(
        "stages=[{name: s, steps: 1, data: [{path: " + data + "}]}]"));
    overrides.addAll(List.of(model));
    return ConfigLoader.load(null, overrides);
  }

  private static ConfigException.Problem onlyModelProblem(ConfigException e) {
    List<ConfigException.Problem> model =
        e.problems().stream().filter(p -> p.key().startsWith("model.")).toList();
    assertEquals(1, model.size(), e.getMessage());
    return model.get(0);
  }

  @Test
  void theBuiltinModelPasses() throws Exception {
    Preflight.forTraining(config());
  }

  @Test
  void aMissingModelFolderIsNamed() throws Exception {
    PerlConfig cfg = config("model.family=qwen2_5_vl", "model.path=" + tmp.resolve("no-model"));
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    ConfigException.Problem p = onlyModelProblem(e);
    assertEquals("model.path", p.key());
    assertTrue(p.message().endsWith("does not exist"), p.message());
  }

  @Test
  void aFileIsNotAModelFolder() throws Exception {
    Path file = Files.writeString(tmp.resolve("weights"), "x");
    PerlConfig cfg = config("model.family=qwen2_5_vl", "model.path=" + file.toUri());
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    ConfigException.Problem p = onlyModelProblem(e);
    assertEquals("model.path", p.key());
    assertTrue(p.message().contains("is a file"), p.message());
  }

  @Test
  void theFamilyChecksAnEmptyModelFolderBeforeSpark() throws Exception {
    // Whether this build has the family or not, an empty folder cannot be used: a model.* problem
    // (model.family while unregistered; the family's own complaint once it is).
    Path empty = Files.createDirectories(tmp.resolve("empty-model"));
    PerlConfig cfg = config("model.family=qwen2_5_vl", "model.path=" + empty);
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    onlyModelProblem(e);
  }

  @Test
  void anUnusableBuiltinTokenizerIsReportedBeforeSpark() throws Exception {
    PerlConfig cfg = config("model.tokenizer=" + tmp.resolve("missing-tokenizer.json"));
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    assertEquals("model.tokenizer", onlyModelProblem(e).key());
  }

  /** The tiny tied-head Qwen fixture as a Hub folder with its tokenizer. */
  private Path tinyQwen() throws Exception {
    Path fixtures = Path.of("..", "perl-model", "src", "test", "resources", "qwen25vl");
    Path to = Files.createDirectories(tmp.resolve("qwen-tiny"));
    try (var files = Files.list(fixtures.resolve("tiny-tied"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
    Files.copy(fixtures.resolve("tokenizer.json"), to.resolve("tokenizer.json"));
    return to;
  }

  /**
   * This machine's DJL JNI is upstream's (no bfloat16): a bf16 run stops here, before Spark, with
   * the way to a JNI that can; the probe's child JVM aborts, this one does not.
   */
  @Test
  void bfloat16OnAnEngineWithoutItStopsBeforeSpark() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        io.perlspark.model.policy.Bfloat16Support.probe().supported(), "this JNI has bf16");
    PerlConfig cfg = config("model.family=qwen2_5_vl", "model.path=" + tinyQwen(),
        "model.lora.enabled=true", "model.dtype=bfloat16");
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    ConfigException.Problem p = onlyModelProblem(e);
    assertEquals("model.dtype", p.key());
    assertTrue(p.message().contains("deploy/gpu/build-jni.sh"), p.message());
    ConfigException sft = assertThrows(ConfigException.class, () -> Preflight.forFineTuning(cfg));
    assertEquals("model.dtype", onlyModelProblem(sft).key());
    // the CLI's early runtime refuses too; perl export (files only, float32 merge) does not
    assertThrows(ConfigException.class,
        () -> io.perlspark.jobs.executor.PolicyRuntime.from(cfg.model(), 1));
    io.perlspark.jobs.executor.PolicyRuntime.forFiles(cfg.model(), 1);
  }

  @Test
  void tf32WithoutLibtorchsSwitchStopsBeforeSpark() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        io.perlspark.model.policy.Tf32.enabledByEnvironment(System.getenv()), "switch is set");
    PerlConfig cfg = config("model.tf32=true");
    ConfigException e = assertThrows(ConfigException.class, () -> Preflight.forTraining(cfg));
    ConfigException.Problem p = onlyModelProblem(e);
    assertEquals("model.tf32", p.key());
    assertTrue(p.message().contains("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1"), p.message());
  }
}
