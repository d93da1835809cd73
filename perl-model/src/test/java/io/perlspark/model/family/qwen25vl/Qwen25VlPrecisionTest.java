package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.lora.LoraConfig;
import io.perlspark.model.policy.Bfloat16Support;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model.dtype} on this machine's CPU libtorch: float16 log-probs against the Hugging Face
 * float32 reference numbers, LoRA gradients in float16 runs, weights of the bf16-stored fixture
 * checkpoints converted to each type, and the bfloat16 refusal on an engine without it (upstream
 * DJL's JNI: its bf16 conversion would abort the JVM). The bfloat16 cases run only on a JNI with
 * bfloat16: source the env file of deploy/gpu/build-jni.sh before Maven (deploy/README.md).
 */
class Qwen25VlPrecisionTest {
  /**
   * float16 log-probs vs the float32 reference: float16 keeps 11 significant bits (relative
   * rounding 4.9e-4 per op) through the vision tower, 2 layers and a 151,936-way head. Measured on
   * this machine (libtorch 2.7.1 CPU): max error 1.1e-2 to 5.2e-2 per case (float32: under 3.1e-5);
   * log-probs of these random models are around -12, and a wrong op gives errors of order 1.
   */
  static final double FLOAT16_LOGPROB_TOL = 8e-2;

  /**
   * bfloat16 log-probs vs the float32 reference: bfloat16 keeps 8 significant bits (relative
   * rounding 3.9e-3 per op), 3 fewer than float16, so the tolerance is float16's times 8. Measured
   * with deploy/gpu/build-jni.sh's JNI on pip torch 2.13.0+cpu: max error 1.5e-1 to 4.7e-1 per
   * case (float16 on the same engine: 1.1e-2 to 5.2e-2, as on 2.7.1).
   */
  static final double BFLOAT16_LOGPROB_TOL = 8 * FLOAT16_LOGPROB_TOL;

  @TempDir static Path tmp;
  static QwenFixtures fx;
  static Path tiedFolder;

  @BeforeAll
  static void open() throws IOException {
    fx = QwenFixtures.open();
    Qwen25VlParityTest.fx = fx; // its case readers
    tiedFolder = Qwen25VlPolicyTest.checkpointFolder(fx, "tiny-tied", tmp.resolve("tiny-tied"));
  }

  @AfterAll
  static void close() throws IOException {
    fx.close();
  }

  private static LoraConfig lora() {
    return new LoraConfig(4, 8.0, List.of("q_proj", "v_proj", "down_proj"), null, true, false);
  }

  /** Next-token log-probs of a case where the reference has them, and the max error to it. */
  private static double logProbError(Qwen25VlModel model, String ckpt, String c, NDManager m) {
    Qwen25VlParityTest.CaseInputs in = Qwen25VlParityTest.inputs(c, m);
    int batch = in.batch();
    int length = in.length();
    Qwen25VlModel.Trace t;
    try (Engines.NoGrad noGrad = Engines.noGrad()) {
      t = model.forward(m, in.ids(), in.mask(), in.pixels(), in.grids(), false);
    }
    NDArray logits = model.logits(t.finalNorm());
    assertEquals(DataType.FLOAT32, logits.getDataType(), "logits are float32 in every dtype");
    long[] next = new long[batch * (length - 1)];
    boolean[] valid = new boolean[batch * (length - 1)];
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l + 1 < length; l++) {
        next[b * (length - 1) + l] = in.ids()[b][l + 1];
        valid[b * (length - 1) + l] = in.mask()[b][l] == 1 && in.mask()[b][l + 1] == 1;
      }
    }
    NDArray picked = logits.logSoftmax(-1).get(new NDIndex(":, :-1, :"))
        .gather(m.create(next, new Shape(batch, length - 1, 1)), 2);
    return Qwen25VlParityTest.maxAbsRows(picked.toFloatArray(),
        Qwen25VlParityTest.ref(ckpt + "/" + c + "/logprob_next", m), valid, 1);
  }

  @Test
  void float16OnCpuGivesTheReferenceLogProbsWithinTolerance() throws IOException {
    assertReferenceLogProbs(DataType.FLOAT16, FLOAT16_LOGPROB_TOL);
  }

  /**
   * Needs a JNI with bfloat16 (deploy/gpu/build-jni.sh; see BFLOAT16_LOGPROB_TOL): skipped on
   * upstream DJL's, where {@link #bfloat16IsRefusedWithoutABf16JniAndTheJvmSurvives} runs instead.
   */
  @Test
  void bfloat16OnABf16JniGivesTheReferenceLogProbsWithinTolerance() throws IOException {
    assumeBf16Jni();
    assertReferenceLogProbs(DataType.BFLOAT16, BFLOAT16_LOGPROB_TOL);
  }

  private static void assumeBf16Jni() {
    Bfloat16Support.Result probe = Bfloat16Support.probe();
    System.out.println("engine " + Engines.engine().getVersion() + " (" + loadedTorchLibraries()
        + "), bf16 probe: " + probe);
    assumeTrue(probe.supported(), "this JVM's PyTorch JNI maps no bfloat16 (upstream DJL's)");
  }

  /** Which libdjl_torch / libtorch_cpu this JVM mapped: shows a custom JNI is the one in use. */
  static String loadedTorchLibraries() {
    try {
      return Files.readAllLines(Path.of("/proc/self/maps")).stream()
          .map(l -> l.substring(l.lastIndexOf(' ') + 1))
          .filter(f -> f.contains("libdjl_torch") || f.endsWith("libtorch_cpu.so"))
          .distinct().collect(java.util.stream.Collectors.joining(", "));
    } catch (IOException e) {
      return "no /proc/self/maps";
    }
  }

  /**
   * Both fixture checkpoints loaded in {@code dtype} (with fresh LoRA adapters, B = 0, so the model
   * equals the base through the adapters' casts): every base weight is {@code dtype}, every
   * adapter float32, and the next-token log-probs are float32 and within {@code tol} of the HF
   * float32 reference; the float32 model stays within the parity tolerance as a control.
   */
  private static void assertReferenceLogProbs(DataType dtype, double tol) throws IOException {
    for (String ckpt : Qwen25VlParityTest.CHECKPOINTS) {
      Path folder = fx.checkpoint(ckpt);
      Qwen25VlConfig config = Qwen25VlConfig.load(folder);
      try (Qwen25VlModel low = Qwen25VlModel.load(folder, config, Device.cpu(), lora(), 7, dtype);
          Qwen25VlModel full = Qwen25VlModel.load(folder, config, Device.cpu())) {
        assertEquals(dtype, low.dtype());
        for (Parameter p : low.parameters()) {
          assertEquals(dtype, p.getArray().getDataType(), "base weight " + p.getName());
        }
        for (Parameter p : low.lora().parameters()) {
          assertEquals(DataType.FLOAT32, p.getArray().getDataType(), "adapter " + p.getName());
        }
        for (String c : Qwen25VlParityTest.CASES) {
          try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            double lowErr = logProbError(low, ckpt, c, m);
            double fullErr = logProbError(full, ckpt, c, m);
            System.out.printf("%s %s logprob_next max|err| vs HF float32: %s %.3e, float32"
                + " %.3e%n", ckpt, c, dtype, lowErr, fullErr);
            assertTrue(lowErr <= tol, ckpt + " " + c + " " + dtype + " error " + lowErr);
            assertTrue(fullErr <= Qwen25VlParityTest.ABS_TOL, ckpt + " " + c + " float32 " + fullErr);
          }
        }
      }
    }
  }

  /** Same recipe path as a run: model.dtype float16 + LoRA through ModelFamilies. */
  @Test
  void float16LoraRunHasFloat32AdaptersLogProbsAndFiniteGradients() throws IOException {
    assertLoraRunKeepsFloat32("float16", FLOAT16_LOGPROB_TOL);
  }

  /** As the float16 run, in bfloat16; needs a JNI with bfloat16 (deploy/gpu/build-jni.sh). */
  @Test
  void bfloat16LoraRunHasFloat32AdaptersLogProbsAndFiniteGradients() throws IOException {
    assumeBf16Jni();
    assertLoraRunKeepsFloat32("bfloat16", BFLOAT16_LOGPROB_TOL);
  }

  @SuppressWarnings("try")
  private static void assertLoraRunKeepsFloat32(String dtype, double tol) throws IOException {
    ModelConfig half = Qwen25VlLoraTest.loraConfig(tiedFolder).withPrecision(dtype, false);
    ModelConfig full = Qwen25VlLoraTest.loraConfig(tiedFolder);
    ModelRecipe halfRecipe = ModelFamilies.recipe(half, 7);
    ModelRecipe fullRecipe = ModelFamilies.recipe(full, 7);
    try (TextTokenizer tokenizer = halfRecipe.newTokenizer();
        Qwen25VlPolicy p = (Qwen25VlPolicy) halfRecipe.newModel(tokenizer, Device.cpu());
        Qwen25VlPolicy ref = (Qwen25VlPolicy) fullRecipe.newModel(tokenizer, Device.cpu())) {
      assertTrue(p.describe().contains(dtype), p.describe());
      assertEquals(Qwen25VlPrecision.of(dtype), p.model().dtype());
      PolicyInput whole = halfRecipe.newPromptProcessor(tokenizer).process(
          Qwen25VlPolicyTest.A_PROMPT, List.of(
              Files.readAllBytes(fx.image("a1_circle_red_56x84")),
              Files.readAllBytes(fx.image("a2_square_blue_84x56"))));
      int n = whole.promptTokens().length;
      PolicyInput prompt = new PolicyInput(Arrays.copyOf(whole.promptTokens(), n - 8),
          whole.images(), whole.imageGrids());
      int[] response = Arrays.copyOfRange(whole.promptTokens(), n - 8, n);
      PackedBatch batch = p.pack(List.of(prompt), new int[][] {response});
      List<Parameter> params = p.trainableParameters();
      Map<String, float[]> grads = new LinkedHashMap<>();
      float[] logProbs;
      synchronized (Engines.TRAINING_LOCK) {
        Engines.zeroGradients(params);
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
            GradientCollector gc = Engines.engine().newGradientCollector()) {
          ResponseTensors rt = p.responseTensors(m, batch, 1f, true, false);
          assertEquals(DataType.FLOAT32, rt.logProbs().getDataType());
          logProbs = rt.logProbs().toFloatArray();
          gc.backward(rt.logProbs().mean().neg());
        }
        for (Parameter param : params) {
          assertEquals(DataType.FLOAT32, param.getArray().getDataType(), param.getName());
          try (NDArray g = param.getArray().getGradient()) {
            assertEquals(DataType.FLOAT32, g.getDataType(), param.getName() + " gradient");
            grads.put(param.getName(), g.toFloatArray());
          }
        }
        Engines.zeroGradients(params);
      }
      double bNorm = 0;
      for (Map.Entry<String, float[]> e : grads.entrySet()) {
        for (float v : e.getValue()) {
          assertTrue(Float.isFinite(v), e.getKey() + " has a non-finite gradient");
          if (e.getKey().endsWith("lora_B")) {
            bNorm += (double) v * v;
          }
        }
      }
      assertTrue(bNorm > 0, "the B gradients must reach the adapters through the casts");
      // precision check (low precision vs our own float32 run, not a parity test)
      float[] refLogProbs = ref.score(List.of(prompt), new int[][] {response}, 1f, false)
          .logProbs()[0];
      double worst = 0;
      for (int i = 0; i < response.length; i++) {
        worst = Math.max(worst, Math.abs(logProbs[i] - refLogProbs[i]));
      }
      System.out.printf("%s vs float32 LoRA log-probs (same adapters): max |diff| %.3e%n",
          dtype, worst);
      assertTrue(worst <= tol, dtype + " vs float32 log-probs differ by " + worst);
      // the flat layout that travels to the driver (and its AdamW) is the float32 adapters'
      assertEquals(p.parameterCount(), p.flatParameters().length);
    }
  }

  @Test
  void bf16StoredWeightsConvertToFloat32ExactlyAndToFloat16ByOneRounding() throws IOException {
    Path folder = fx.checkpoint("tiny-untied");
    Qwen25VlConfig config = Qwen25VlConfig.load(folder);
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Map<String, NDArray> f32 = Qwen25VlWeights.load(folder, config, m, DataType.FLOAT32);
      Map<String, NDArray> f16 = Qwen25VlWeights.load(folder, config, m, DataType.FLOAT16);
      assertEquals(f32.keySet(), f16.keySet());
      for (String name : f32.keySet()) {
        NDArray a = f32.get(name);
        NDArray h = f16.get(name);
        assertEquals(DataType.FLOAT32, a.getDataType(), name);
        assertEquals(DataType.FLOAT16, h.getDataType(), name);
        // a bf16 value has 8 significant bits, so float32 holds it exactly and float16 (11 bits)
        // too unless it is outside float16's range: each float16 value is float32's, rounded once
        float[] fromHalf = h.toType(DataType.FLOAT32, false).toFloatArray();
        float[] rounded = a.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false)
            .toFloatArray();
        assertArrayEquals(rounded, fromHalf, name);
      }
    }
  }

  /**
   * On an engine without bfloat16 (upstream DJL 0.36, as on this machine) a bf16 model is refused
   * with the way to a JNI that can, and this JVM keeps running; on a JNI with bf16 it loads.
   */
  @Test
  void bfloat16IsRefusedWithoutABf16JniAndTheJvmSurvives() throws IOException {
    ModelConfig bf16 = Qwen25VlLoraTest.loraConfig(tiedFolder).withPrecision("bfloat16", false);
    ModelRecipe recipe = ModelFamilies.recipe(bf16, 7); // files only: no engine check yet
    Bfloat16Support.Result probe = Bfloat16Support.probe();
    System.out.println("bf16 probe: " + probe);
    Qwen25VlConfig config = Qwen25VlConfig.load(tiedFolder);
    if (!probe.supported()) {
      ConfigException e = assertThrows(ConfigException.class, recipe::checkEngine);
      assertEquals(List.of("model.dtype"), e.keys());
      assertTrue(e.getMessage().contains("deploy/gpu/build-jni.sh"), e.getMessage());
      try (TextTokenizer tokenizer = recipe.newTokenizer()) {
        ConfigException onBuild = assertThrows(ConfigException.class,
            () -> recipe.newModel(tokenizer, Device.cpu()));
        assertEquals(List.of("model.dtype"), onBuild.keys());
      }
      assertThrows(ConfigException.class, () -> Qwen25VlModel.load(tiedFolder, config,
          Device.cpu(), lora(), 7, DataType.BFLOAT16));
      assertTrue(Bfloat16Support.probe() == probe, "the answer is cached per JVM");
    } else {
      try (Qwen25VlModel model = Qwen25VlModel.load(tiedFolder, config, Device.cpu(), lora(), 7,
          DataType.BFLOAT16)) {
        assertEquals(DataType.BFLOAT16, model.dtype());
      }
    }
    // still alive, and the engine still works
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      assertEquals(6f, m.create(new float[] {1, 2, 3}).sum().getFloat());
    }
  }

  @Test
  void fullFineTuningInHalfPrecisionIsRefusedByTheModel() {
    Qwen25VlConfig config;
    try {
      config = Qwen25VlConfig.load(tiedFolder);
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Qwen25VlModel.load(tiedFolder, config, Device.cpu(), null, 0, DataType.FLOAT16));
    assertTrue(e.getMessage().contains("LoRA"), e.getMessage());
  }
}
