package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.LoraSettings;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.lora.LoraAdapters;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA run of the Qwen2.5-VL family on the tiny fixture checkpoint: at step 0 the policy is the
 * base bit for bit, only the adapters are trainable (and are what the bytes hold), gradients reach
 * A and B but not the base, bytes round-trip, and changed adapters change the scores; an adapter
 * view shares the base weights (no copy) with adapters of its own, and the base is freed only
 * with the last of its holders.
 */
class Qwen25VlLoraTest {
  static final int RANK = 4;

  @TempDir static Path tmp;
  static QwenFixtures fx;
  static ModelRecipe baseRecipe;
  static ModelRecipe loraRecipe;
  static TextTokenizer tokenizer;
  static Qwen25VlPolicy base;
  static Qwen25VlPolicy lora;
  static PolicyInput prompt;
  static int[] response;

  static ModelConfig loraConfig(Path folder) {
    return Qwen25VlPolicyTest.modelConfig(folder, 512).withLora(
        new LoraSettings(true, RANK, 8.0, LoraSettings.DEFAULT_TARGETS, false, false));
  }

  @BeforeAll
  static void load() throws IOException {
    fx = QwenFixtures.open();
    Path folder = Qwen25VlPolicyTest.checkpointFolder(fx, "tiny-tied", tmp.resolve("tiny-tied"));
    baseRecipe = ModelFamilies.recipe(Qwen25VlPolicyTest.modelConfig(folder, 512), 7);
    loraRecipe = ModelFamilies.recipe(loraConfig(folder), 7);
    tokenizer = baseRecipe.newTokenizer();
    base = (Qwen25VlPolicy) baseRecipe.newModel(tokenizer, Device.cpu());
    lora = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu());
    PromptProcessor processor = baseRecipe.newPromptProcessor(tokenizer);
    PolicyInput whole = processor.process(Qwen25VlPolicyTest.A_PROMPT, List.of(
        Files.readAllBytes(fx.image("a1_circle_red_56x84")),
        Files.readAllBytes(fx.image("a2_square_blue_84x56"))));
    int n = whole.promptTokens().length;
    prompt = new PolicyInput(Arrays.copyOf(whole.promptTokens(), n - 8), whole.images(),
        whole.imageGrids());
    response = Arrays.copyOfRange(whole.promptTokens(), n - 8, n);
  }

  @AfterAll
  static void close() throws IOException {
    lora.close();
    base.close();
    tokenizer.close();
    fx.close();
  }

  static float[] scores(Qwen25VlPolicy p) {
    return p.score(List.of(prompt), new int[][] {response}, 1f, false).logProbs()[0];
  }

  static LoraAdapters adapters() {
    return lora.model().lora();
  }

  @Test
  void atInitTheLoraPolicyScoresExactlyAsTheBase() {
    assertTrue(loraRecipe.trainsLora());
    assertFalse(baseRecipe.trainsLora());
    assertArrayEquals(scores(base), scores(lora), "B = 0: the update is exactly zero");
  }

  @Test
  void onlyTheDecoderAdaptersAreTrainable() {
    Qwen25VlConfig c = lora.model().config();
    long h = c.hiddenSize();
    long kv = (long) c.numKvHeads() * c.headDim();
    long q = (long) c.numHeads() * c.headDim();
    long inter = c.intermediateSize();
    // r * (in + out) for q, k, v, o, gate, up, down of every layer
    long perLayer = RANK * ((h + q) + (h + kv) + (h + kv) + (q + h) + (h + inter) + (h + inter)
        + (inter + h));
    assertEquals(perLayer * c.numLayers(), lora.parameterCount());
    assertEquals(7L * c.numLayers(), adapters().modules().size());
    assertEquals(14 * c.numLayers(), lora.trainableParameters().size());
    long values = 0;
    for (Parameter p : lora.trainableParameters()) {
      assertTrue(p.getName().matches("model\\.layers\\.\\d+\\.(self_attn|mlp)\\.\\w+_proj\\.lora_[AB]"),
          p.getName());
      values += p.getArray().size();
    }
    assertEquals(lora.parameterCount(), values);
    assertEquals(lora.parameterCount(), lora.flatParameters().length);
    for (Parameter p : lora.model().parameters()) {
      assertFalse(p.getArray().hasGradient(), "base " + p.getName() + " must be frozen");
    }
    assertTrue(lora.describe().contains("LoRA r=4"), lora.describe());
    assertEquals(base.parameterCount(), loraRecipe.baseParameterCount());
    System.out.printf("LoRA r=%d: %d adapter values (%d bytes) vs %d base values (%d bytes)%n",
        RANK, lora.parameterCount(), lora.parametersToBytes().length, base.parameterCount(),
        base.parametersToBytes().length);
    // the recipe accepts its own bytes and refuses the base's, without a model
    loraRecipe.checkParameters(lora.parametersToBytes());
    assertThrows(IllegalArgumentException.class,
        () -> loraRecipe.checkParameters(base.parametersToBytes()));
    assertThrows(IllegalArgumentException.class,
        () -> baseRecipe.checkParameters(lora.parametersToBytes()));
  }

  @Test
  void everyJvmDrawsTheSameInitialAdaptersFromTheSeed() throws IOException {
    try (Qwen25VlPolicy again = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      assertArrayEquals(adaptersInitial(), again.parametersToBytes());
    }
    Path folder = Path.of(((Qwen25VlRecipe) loraRecipe).folder().pathOrUri());
    ModelRecipe otherSeed = ModelFamilies.recipe(loraConfig(folder), 8);
    try (Qwen25VlPolicy other = (Qwen25VlPolicy) otherSeed.newModel(tokenizer, Device.cpu())) {
      assertFalse(Arrays.equals(adaptersInitial(), other.parametersToBytes()));
    }
  }

  /** The initial bytes of the seed-7 recipe (a fresh model: other tests change {@code lora}). */
  static byte[] adaptersInitial() {
    try (Qwen25VlPolicy fresh = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      return fresh.parametersToBytes();
    }
  }

  @Test
  void aBackwardPassReachesTheAdaptersOnly() {
    try (Qwen25VlPolicy p = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      PackedBatch batch = p.pack(List.of(prompt), new int[][] {response});
      List<Parameter> params = p.trainableParameters();
      synchronized (Engines.TRAINING_LOCK) {
        Engines.zeroGradients(params);
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
            GradientCollector gc = Engines.engine().newGradientCollector()) {
          ResponseTensors rt = p.responseTensors(m, batch, 1f, true, false);
          gc.backward(rt.logProbs().mean().neg());
        }
        for (Parameter param : params) {
          float[] g;
          try (NDArray grad = param.getArray().getGradient()) {
            g = grad.toFloatArray();
          }
          double norm = 0;
          for (float v : g) {
            norm += (double) v * v;
          }
          if (param.getName().endsWith("lora_A")) {
            // dL/dA = scale * B^T dL/dy x^T, and B = 0 at init
            assertEquals(0.0, norm, param.getName());
          } else {
            // dL/dB = scale * dL/dy (x A^T)^T: nonzero since A is not
            assertTrue(norm > 0, param.getName() + " has no gradient");
          }
        }
        Engines.zeroGradients(params);
      }
      for (Parameter b : p.model().parameters()) {
        assertFalse(b.getArray().hasGradient(), b.getName());
      }
    }
  }

  @Test
  void bytesRoundTripAndChangedAdaptersChangeTheScoresButNotAViewsOnes() {
    try (Qwen25VlPolicy p = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu());
        Qwen25VlPolicy q = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      float[] v = new float[Math.toIntExact(p.parameterCount())];
      SplittableRandom rng = new SplittableRandom(3);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (rng.nextGaussian() * 0.05);
      }
      p.setFlatParameters(v);
      assertArrayEquals(v, p.flatParameters());
      byte[] bytes = p.parametersToBytes();
      assertEquals(LoraAdapters.class, p.model().lora().getClass());
      q.loadParameters(bytes);
      assertArrayEquals(bytes, q.parametersToBytes(), "bitwise round trip");
      assertArrayEquals(v, q.flatParameters());

      float[] adapted = scores(q);
      float[] baseScores = scores(base);
      assertFalse(Arrays.equals(baseScores, adapted), "adapters changed nothing");
      assertArrayEquals(scores(p), adapted, "same adapters, same scores");
      try (Qwen25VlPolicy reference = (Qwen25VlPolicy) q.newAdapterView().orElseThrow()) {
        assertArrayEquals(baseScores, scores(reference), "a fresh view over q's base: the base");
        assertArrayEquals(adapted, scores(q), "the view's adapters are its own, q keeps its own");
      }
      assertThrows(IllegalArgumentException.class, () -> q.loadParameters(base.parametersToBytes()));
      assertArrayEquals(bytes, q.parametersToBytes(), "refused bytes leave the adapters");
      assertNotEquals(0, bytes.length);
    }
  }

  @Test
  void aViewSharesTheBaseArraysAndOutlivesTheModelThatLoadedThem() {
    assertTrue(base.newAdapterView().isEmpty(), "a full fine-tune has no adapter views");
    Qwen25VlPolicy owner = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu());
    Qwen25VlPolicy view = (Qwen25VlPolicy) owner.newAdapterView().orElseThrow();
    try {
      assertTrue(view.model().isView());
      assertFalse(owner.model().isView());
      for (int i = 0; i < owner.model().parameters().size(); i++) {
        assertTrue(owner.model().parameters().get(i).getArray()
            == view.model().parameters().get(i).getArray(), "the same base array, not a copy");
      }
      long adapterBytes = 4L * owner.parameterCount();
      assertEquals(adapterBytes, view.nativeBytes(), "a view counts only its adapters");
      assertEquals(4L * owner.model().parameterCount() + adapterBytes, owner.nativeBytes());
      assertTrue(owner.model().lora().parameters().get(0).getArray()
          != view.model().lora().parameters().get(0).getArray(), "adapters of its own");
      float[] v = new float[Math.toIntExact(view.parameterCount())];
      SplittableRandom rng = new SplittableRandom(9);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (rng.nextGaussian() * 0.05);
      }
      view.setFlatParameters(v);
      float[] adapted = scores(view);
      assertArrayEquals(scores(base), scores(owner), "the owner's adapters are untouched");

      owner.close();
      assertFalse(view.model().baseFreed(), "the loader closed, a view still holds the base");
      assertArrayEquals(adapted, scores(view), "the view still computes on the intact base");
      owner.close(); // a second close releases nothing more
      assertFalse(view.model().baseFreed());
      assertThrows(IllegalStateException.class, owner::newAdapterView, "closed: no new views");
    } finally {
      view.close();
      owner.close();
    }
    assertTrue(view.model().baseFreed(), "the last holder freed the base");
  }

  @Test
  void theExportedAdapterAndTheMergedFolderAreTheTrainedPolicy() throws IOException {
    try (Qwen25VlPolicy p = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      float[] v = new float[Math.toIntExact(p.parameterCount())];
      SplittableRandom rng = new SplittableRandom(5);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (rng.nextGaussian() * 0.05);
      }
      p.setFlatParameters(v);
      byte[] bytes = p.parametersToBytes();

      Path adapter = tmp.resolve("adapter");
      assertEquals(p.model().lora().modules().size(), loraRecipe.exportAdapter(bytes, adapter));
      try (io.perlspark.model.lora.PeftAdapterIO.Adapter read =
          io.perlspark.model.lora.PeftAdapterIO.read(adapter, Qwen25VlPeftNames.INSTANCE)) {
        assertArrayEquals(bytes, read.adapters().toBytes(), "the PEFT folder holds the adapters");
      }
      assertPeftNestedKeyNames(adapter, p.model().lora().modules().size());
      assertThrows(UnsupportedOperationException.class,
          () -> baseRecipe.exportAdapter(base.parametersToBytes(), tmp.resolve("none")));

      Path merged = tmp.resolve("merged");
      long t0 = System.nanoTime();
      // float32: the fixture's base is bfloat16, which would round the merged weights
      loraRecipe.exportMerged(bytes, merged, 4_000_000, "float32"); // small shards: sharded too
      System.out.printf("merged folder written in %.2f s%n", (System.nanoTime() - t0) / 1e9);
      ModelRecipe mergedRecipe = ModelFamilies.recipe(Qwen25VlPolicyTest.modelConfig(merged, 512), 7);
      try (Qwen25VlPolicy m = (Qwen25VlPolicy) mergedRecipe.newModel(tokenizer, Device.cpu())) {
        float[] adapted = scores(p);
        float[] fromMerged = scores(m);
        double max = 0;
        for (int i = 0; i < adapted.length; i++) {
          max = Math.max(max, Math.abs(adapted[i] - fromMerged[i]));
        }
        System.out.printf("merged vs base+adapters: max |log-prob diff| %.3e%n", max);
        assertTrue(max <= 1e-5, "max |diff| " + max);
        assertFalse(Arrays.equals(scores(base), fromMerged), "the merge changed the model");
      }
      assertTrue(Files.exists(merged.resolve("model.safetensors.index.json")), "sharded");
      assertTrue(Files.exists(merged.resolve("tokenizer.json")), "tokenizer copied");
      // without a dtype, the base's own (bfloat16 here): the merge rounded to it
      Path sameType = tmp.resolve("merged-bf16");
      loraRecipe.exportMerged(bytes, sameType, Long.MAX_VALUE, null);
      try (io.perlspark.model.hub.SafeTensorsFolder f =
          io.perlspark.model.hub.SafeTensorsFolder.open(sameType)) {
        for (String name : f.names()) {
          assertEquals("BF16", f.info(name).dtype(), name);
        }
      }
    }
  }

  /**
   * The keys PEFT 0.21 + transformers 5.18 load (and write themselves): the decoder under {@code
   * model.language_model.}, the vision tower under {@code model.visual.}. The checkpoint's older
   * names ({@code model.layers.}, {@code visual.}) are silently not loaded there (B stays 0).
   */
  static void assertPeftNestedKeyNames(Path adapter, int modules) throws IOException {
    try (io.perlspark.model.hub.SafeTensors st = io.perlspark.model.hub.SafeTensors.open(
        adapter.resolve(io.perlspark.model.lora.PeftAdapterIO.WEIGHTS_FILE))) {
      assertEquals(2 * modules, st.tensors().size());
      for (String key : st.tensors().keySet()) {
        assertTrue(key.matches("base_model\\.model\\.model\\.(language_model\\.layers|visual\\.blocks)"
            + "\\.\\d+\\.[a-z_]+\\.[a-z_]+\\.lora_[AB]\\.weight"), key);
      }
      assertTrue(st.tensors().containsKey(
          "base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight"));
    }
  }

  @Test
  void anAdapterInTheCheckpointsOlderNamesStillReadsBack() throws IOException {
    try (Qwen25VlPolicy p = (Qwen25VlPolicy) loraRecipe.newModel(tokenizer, Device.cpu())) {
      float[] v = new float[Math.toIntExact(p.parameterCount())];
      SplittableRandom rng = new SplittableRandom(11);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) rng.nextGaussian();
      }
      p.setFlatParameters(v);
      LoraAdapters a = p.model().lora();
      // as written before the nested names (and by PEFT with transformers < 4.52)
      Path older = tmp.resolve("older-names");
      io.perlspark.model.lora.PeftAdapterIO.write(older, a, a.config(), "base");
      try (io.perlspark.model.lora.PeftAdapterIO.Adapter read =
          io.perlspark.model.lora.PeftAdapterIO.read(older, Qwen25VlPeftNames.INSTANCE)) {
        assertArrayEquals(a.toBytes(), read.adapters().toBytes());
      }
    }
  }

  @Test
  void peftNamesMapBothWaysAndLeaveTheLmHead() {
    Qwen25VlPeftNames n = Qwen25VlPeftNames.INSTANCE;
    assertEquals("model.language_model.layers.3.mlp.up_proj", n.toPeft("model.layers.3.mlp.up_proj"));
    assertEquals("model.visual.blocks.0.mlp.gate_proj", n.toPeft("visual.blocks.0.mlp.gate_proj"));
    assertEquals("lm_head", n.toPeft("lm_head"));
    for (String ours : List.of("model.layers.3.mlp.up_proj", "visual.blocks.0.attn.qkv", "lm_head")) {
      assertEquals(ours, n.fromPeft(n.toPeft(ours)));
      assertEquals(ours, n.fromPeft(ours), "the older layout reads as it is");
    }
  }

  @Test
  void visionTrueAlsoAdaptsTheVisionTowersMatchingModules() {
    Path folder = Path.of(((Qwen25VlRecipe) loraRecipe).folder().pathOrUri());
    ModelConfig withVision = Qwen25VlPolicyTest.modelConfig(folder, 512).withLora(
        new LoraSettings(true, RANK, 8.0, LoraSettings.DEFAULT_TARGETS, true, true));
    ModelRecipe r = ModelFamilies.recipe(withVision, 7);
    try (Qwen25VlPolicy p = (Qwen25VlPolicy) r.newModel(tokenizer, Device.cpu())) {
      List<String> names = p.model().lora().modules().stream().map(LoraAdapters.Module::name)
          .toList();
      assertTrue(names.contains("visual.blocks.0.mlp.gate_proj"), names.toString());
      assertTrue(names.size() > adapters().modules().size());
      assertArrayEquals(scores(base), scores(p), "B = 0 in the vision tower too");
      // change only the vision adapters' B: the image embeddings, hence the scores, change
      float[] v = p.flatParameters();
      long at = 0;
      for (LoraAdapters.Module m : p.model().lora().modules()) {
        long a = (long) RANK * m.inFeatures();
        long b = m.outFeatures() * RANK;
        if (m.name().startsWith("visual.")) {
          for (long i = at + a; i < at + a + b; i++) {
            v[(int) i] = 0.1f;
          }
        }
        at += a + b;
      }
      p.setFlatParameters(v);
      assertFalse(Arrays.equals(scores(base), scores(p)), "vision adapters are applied");
    }
  }

  @Test
  void targetsThatMatchNothingNameTheKey() {
    Path folder = Path.of(((Qwen25VlRecipe) loraRecipe).folder().pathOrUri());
    ModelConfig none = Qwen25VlPolicyTest.modelConfig(folder, 512).withLora(
        new LoraSettings(true, RANK, 8.0, "no_such_proj", false, false));
    ConfigException e = assertThrows(ConfigException.class, () -> ModelFamilies.recipe(none, 7));
    assertEquals("model.lora.targets", e.problems().get(0).key());
  }
}
