package io.perlspark.model.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.policy.Bfloat16Support;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU benchmark's main on the CPU with the tiny config and tiny sizes: every phase prints one
 * well-formed JSON line with positive measurements, parity holds, usage mistakes are one line.
 */
class QwenGpuBenchTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Fields that may legitimately be 0 (or false) in a correct run. */
  private static final Set<String> MAY_BE_ZERO = Set.of("gpu_count", "max_abs_logprob_diff");

  record Run(int rc, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = QwenGpuBench.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void tinyCpuRunPrintsEveryPhaseWithPositiveNumbersAndParity(@TempDir Path tmp) throws Exception {
    Path outFile = tmp.resolve("bench.jsonl");
    Run r = run("--config", "tiny", "--device", "cpu", "--prompts", "3", "--new-tokens", "5",
        "--image-size", "56", "--text-tokens", "12", "--update-seqs", "2", "--gen-batch", "2",
        "--parity-prompts", "2", "--parity-new-tokens", "4",
        "--parity-checkpoint", Path.of("src/test/resources/qwen25vl/tiny-tied").toString(),
        "--out", outFile.toString());
    assertEquals(0, r.rc(), r.out() + r.err());
    List<JsonNode> lines = new ArrayList<>();
    for (String line : r.out().strip().split("\n")) {
      lines.add(JSON.readTree(line)); // throws on anything that is not one JSON object per line
    }
    assertEquals(r.out(), Files.readString(outFile), "--out holds the same lines");
    List<String> phases = lines.stream().map(l -> l.get("phase").asText()).toList();
    assertEquals(List.of("setup", "warmup", "generate", "score", "update", "parity", "summary"), phases);
    for (JsonNode l : lines) {
      assertEquals("qwen25vl", l.get("bench").asText());
      assertFalse(l.has("error"), l.toString());
      for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (f.getValue().isNumber() && !MAY_BE_ZERO.contains(f.getKey())) {
          assertTrue(f.getValue().asDouble() > 0, f.getKey() + " in " + l);
        }
      }
    }
    JsonNode gen = lines.get(2);
    assertEquals(3 * 5, gen.get("generated_tokens").asInt(), "eos ignored: every token forced");
    assertEquals(12 + 2 * 4, gen.get("prompt_tokens").asInt(), "2 images of 4 merged tokens");
    assertEquals(2 * (20 + 5), lines.get(4).get("tokens").asInt());
    JsonNode parity = lines.get(5);
    assertTrue(parity.get("ok").asBoolean(), parity.toString());
    assertTrue(parity.get("greedy_tokens_equal").asBoolean());
    assertTrue(lines.get(6).get("ok").asBoolean());
  }

  @Test
  void float16RunKeepsLoraAndItsUpdateInFloat32() {
    Run r = run("--config", "tiny", "--device", "cpu", "--dtype", "float16", "--prompts", "2",
        "--new-tokens", "3", "--image-size", "56", "--text-tokens", "8", "--update-seqs", "2",
        "--phases", "generate,update");
    assertEquals(0, r.rc(), r.out() + r.err());
    assertTrue(r.out().contains("\"dtype\":\"float16\""), r.out());
    assertFalse(r.out().contains("\"error\""), r.out());
  }

  /** Needs a JNI with bfloat16 (deploy/gpu/build-jni.sh); skipped on upstream DJL's. */
  @Test
  void bfloat16RunOnABf16JniKeepsLoraAndItsUpdateInFloat32() {
    assumeTrue(Bfloat16Support.probe().supported(), "this JVM's PyTorch JNI maps no bfloat16");
    Run r = run("--config", "tiny", "--device", "cpu", "--dtype", "bfloat16", "--prompts", "2",
        "--new-tokens", "3", "--image-size", "56", "--text-tokens", "8", "--update-seqs", "2",
        "--phases", "generate,update");
    assertEquals(0, r.rc(), r.out() + r.err());
    assertTrue(r.out().contains("\"dtype\":\"bfloat16\""), r.out());
    assertFalse(r.out().contains("\"error\""), r.out());
  }

  @Test
  void usageMistakesAreOneLineWithExitCode2() {
    boolean bf16 = Bfloat16Support.probe().supported();
    List<String[]> mistakes = new ArrayList<>(List.of(
        new String[] {"--dtype", "float64"},
        new String[] {"--image-size", "50"},
        new String[] {"--prompts", "0"},
        new String[] {"--phases", "generate,fly"},
        new String[] {"--config", "/no/such/folder", "--phases", "parity"},
        new String[] {"--device", "gpu", "--phases", "parity"},
        new String[] {"--bogus", "1"}));
    if (!bf16) {
      mistakes.add(new String[] {"--dtype", "bfloat16"});
    }
    for (String[] args : mistakes) {
      Run r = run(args);
      assertEquals(2, r.rc(), String.join(" ", args) + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertFalse(r.err().contains("Exception"), r.err());
      assertEquals("", r.out());
    }
    assertTrue(run("--dtype", "float64").err().contains("float16"));
    if (!bf16) {
      assertTrue(run("--dtype", "bfloat16").err().contains("deploy/gpu/build-jni.sh"),
          "upstream DJL maps no bfloat16: the bench says where to get a JNI that does");
    }
    assertTrue(run("--device", "gpu").err().contains("deploy/gpu/build-jni.sh"));
  }

  @Test
  void builtInConfigsAreTheRepositorysModelConfigs() throws Exception {
    for (String name : List.of("qwen2_5_vl-tiny", "qwen2_5_vl-3b")) {
      for (String file : List.of("config.json", "generation_config.json")) {
        try (InputStream in = QwenGpuBench.class.getResourceAsStream(name + "/" + file)) {
          assertEquals(JSON.readTree(Path.of("../conf/models", name, file).toFile()), JSON.readTree(in),
              name + "/" + file + " must equal conf/models (copy it again when that changes)");
        }
      }
    }
    assertEquals(36, QwenGpuBench.config("3b").numLayers());
    assertEquals(2048, QwenGpuBench.config("3b").hiddenSize());
  }
}
