package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.common.config.LoraSettings;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code perl export} writes, loaded by the Python stack users serve with: PEFT ({@code
 * PeftModel.from_pretrained}, then {@code merge_and_unload}) over the base checkpoint, and
 * transformers over the merged folder, must give the log-probs our Java model gives for base +
 * adapters (float32), with no missing or unexpected keys. The Python side is {@code
 * bench/hf_load_check.py}; this test writes the folders and the Java log-probs it compares with.
 *
 * <p>Runs only when a Python with torch, transformers and peft is named ({@value #PYTHON_PROPERTY}
 * or {@code PERL_HF_PYTHON}); CI has none and is offline. {@code bench/hf-load-check.sh} runs it.
 * {@value #OUT_PROPERTY} keeps the folders and the dump in a folder of your choice.
 */
class HfLoadCheckTest {
  static final String PYTHON_PROPERTY = "perl.hf.python";
  static final String OUT_PROPERTY = "perl.hf.out";
  static final String SCRIPT = "bench/hf_load_check.py";

  @TempDir Path tmp;

  /** One base checkpoint and the LoRA settings exported over it. */
  record Variant(String checkpoint, LoraSettings lora) {}

  // Both fixture checkpoints (tied and untied lm_head); the second also adapts the vision tower
  // (target_modules as a plain list) and uses rsLoRA, so both config forms PEFT reads are covered.
  static final List<Variant> VARIANTS = List.of(
      new Variant("tiny-tied", new LoraSettings(true, 4, 8.0, LoraSettings.DEFAULT_TARGETS, false,
          false)),
      new Variant("tiny-untied", new LoraSettings(true, 4, 8.0, LoraSettings.DEFAULT_TARGETS, true,
          true)));

  static String configuredPython() {
    String p = System.getProperty(PYTHON_PROPERTY);
    if (p == null || p.isBlank()) {
      p = System.getenv("PERL_HF_PYTHON");
    }
    return p == null || p.isBlank() ? null : p;
  }

  static Path script() {
    // surefire runs in the module folder; the script lives at the repository root
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(SCRIPT))) {
        return p.resolve(SCRIPT);
      }
    }
    throw new IllegalStateException(SCRIPT + " not found above " + here);
  }

  @Test
  void pythonLoadsTheExportedAdapterAndMergedFolderWithOurLogProbs() throws Exception {
    String python = configuredPython();
    Assumptions.assumeTrue(python != null, "no Python with torch+transformers+peft configured: pass -D"
        + PYTHON_PROPERTY + "=/path/to/venv/bin/python or set PERL_HF_PYTHON (bench/hf-load-check.sh"
        + " says how to make the venv)");
    String out = System.getProperty(OUT_PROPERTY);
    Path root = out == null || out.isBlank() ? tmp : Files.createDirectories(Path.of(out));

    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode dump = json.createObjectNode();
    ArrayNode variants = dump.putArray("variants");
    try (QwenFixtures fx = QwenFixtures.open()) {
      for (Variant v : VARIANTS) {
        variants.add(exportAndScore(fx, v, root.resolve(v.checkpoint()), json));
      }
    }
    Path dumpFile = root.resolve("java-logprobs.json");
    json.writeValue(dumpFile.toFile(), dump);

    ProcessBuilder pb = new ProcessBuilder(python, script().toString(), dumpFile.toString())
        .redirectErrorStream(true);
    pb.environment().put("HF_HUB_OFFLINE", "1");
    pb.environment().put("TRANSFORMERS_OFFLINE", "1");
    Process proc = pb.start();
    String output = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(proc.waitFor(10, TimeUnit.MINUTES), "python did not finish");
    System.out.println(output);
    Files.writeString(root.resolve("hf-load-check.txt"), output); // bench/hf-load-check.sh prints it
    assertEquals(0, proc.exitValue(), "bench/hf_load_check.py failed:\n" + output);
    assertTrue(output.contains("ALL OK"), output);
  }

  /**
   * Writes the adapter folder, the float32 merged folder and the merged folder in the base's own
   * type (bfloat16) for adapters drawn at random (B != 0: PEFT's init B = 0 would prove nothing),
   * and scores two prompts (text only; two images) with base, base + adapters, and our own load of
   * the bfloat16 merged folder.
   */
  static ObjectNode exportAndScore(QwenFixtures fx, Variant v, Path dir, ObjectMapper json)
      throws IOException {
    Path base = Qwen25VlPolicyTest.checkpointFolder(fx, v.checkpoint(), dir.resolve("base"));
    ModelConfig baseConfig = Qwen25VlPolicyTest.modelConfig(base, 512);
    ModelRecipe baseRecipe = ModelFamilies.recipe(baseConfig, 7);
    ModelRecipe loraRecipe = ModelFamilies.recipe(baseConfig.withLora(v.lora()), 7);
    Path adapter = dir.resolve("adapter");
    Path merged = dir.resolve("merged-f32");
    Path mergedNative = dir.resolve("merged-bf16");
    ObjectNode node = json.createObjectNode();
    node.put("name", v.checkpoint() + (v.lora().vision() ? " +vision" : "")
        + (v.lora().rslora() ? " rslora" : ""));
    node.put("base", base.toString());
    node.put("adapter", adapter.toString());
    node.put("merged_f32", merged.toString());
    node.put("merged_bf16", mergedNative.toString());
    try (TextTokenizer tokenizer = baseRecipe.newTokenizer();
        Qwen25VlPolicy basePolicy = (Qwen25VlPolicy) baseRecipe.newModel(tokenizer, Device.cpu());
        Qwen25VlPolicy lora = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      float[] values = new float[Math.toIntExact(lora.parameterCount())];
      SplittableRandom rng = new SplittableRandom(v.checkpoint().hashCode());
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (rng.nextGaussian() * 0.05);
      }
      lora.setFlatParameters(values);
      byte[] bytes = lora.parametersToBytes();
      // what `perl export` calls with a checkpoint's bytes (ExportCommand)
      int modules = loraRecipe.exportAdapter(bytes, adapter);
      assertEquals(lora.model().lora().modules().size(), modules);
      node.put("modules", modules);
      loraRecipe.exportMerged(bytes, merged, 4_000_000, "float32"); // small shards: an index too
      loraRecipe.exportMerged(bytes, mergedNative, Long.MAX_VALUE, null);

      PromptProcessor processor = baseRecipe.newPromptProcessor(tokenizer);
      List<Object[]> prompts = List.of(
          new Object[] {"text", processor.process("What colour is a ripe banana? Answer in one"
              + " word.", List.of()), tokenizer.encode("Yellow. It is yellow.")},
          new Object[] {"2 images", processor.process(Qwen25VlPolicyTest.A_PROMPT, List.of(
              Files.readAllBytes(fx.image("a1_circle_red_56x84")),
              Files.readAllBytes(fx.image("a2_square_blue_84x56")))),
              tokenizer.encode("Image 1 shows the red circle.")});
      ModelRecipe nativeRecipe = ModelFamilies.recipe(
          Qwen25VlPolicyTest.modelConfig(mergedNative, 512), 7);
      ArrayNode cases = node.putArray("cases");
      try (Qwen25VlPolicy ownMerged = (Qwen25VlPolicy) nativeRecipe.newModel(tokenizer,
          Device.cpu())) {
        for (Object[] p : prompts) {
          PolicyInput in = (PolicyInput) p[1];
          int[] response = (int[]) p[2];
          ObjectNode c = cases.addObject();
          c.put("name", (String) p[0]);
          c.set("prompt_ids", json.valueToTree(in.promptTokens()));
          c.set("response_ids", json.valueToTree(response));
          if (in.images().length > 0) {
            Path pixels = dir.resolve(p[0].toString().replace(' ', '_') + ".pixels.f32");
            writeFloats(pixels, in.images());
            c.put("pixel_values", pixels.toString());
            c.set("image_grid_thw", json.valueToTree(in.imageGrids()));
          }
          float[] baseScores = score(basePolicy, in, response);
          float[] adapted = score(lora, in, response);
          assertFalse(Arrays.equals(baseScores, adapted), "the adapters change the scores");
          ObjectNode java = c.putObject("java");
          java.set("base", json.valueToTree(baseScores));
          java.set("adapted", json.valueToTree(adapted));
          java.set("merged_bf16", json.valueToTree(score(ownMerged, in, response)));
        }
      }
    }
    return node;
  }

  static float[] score(Qwen25VlPolicy p, PolicyInput in, int[] response) {
    return p.score(List.of(in), new int[][] {response}, 1f, false).logProbs()[0];
  }

  /** The images' pixel rows back to back, float32 little-endian (numpy's {@code <f4}). */
  static void writeFloats(Path file, float[][] images) throws IOException {
    List<float[]> all = new ArrayList<>(Arrays.asList(images));
    int n = all.stream().mapToInt(a -> a.length).sum();
    ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] a : all) {
      buf.asFloatBuffer().put(a);
      buf.position(buf.position() + 4 * a.length);
    }
    Files.write(file, buf.array());
  }
}
