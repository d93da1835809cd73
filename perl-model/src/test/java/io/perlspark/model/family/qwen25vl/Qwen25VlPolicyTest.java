package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.policy.TokenScores;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Qwen2.5-VL family through the jobs' interfaces ({@link ModelRecipe}, {@link PolicyModel},
 * {@link PromptProcessor}) against the Hugging Face fixtures: canonical prompts processed to the
 * reference ids, scores equal to the reference log-probs, greedy generation equal to the reference
 * tokens, parameters round-tripped bit for bit, and permuted images laid out as their own prompt.
 */
class Qwen25VlPolicyTest {
  static final String A_PROMPT = "Which image shows a red circle? Image 1: <image> Image 2: <image>"
      + " Answer with the image number only.";
  static final List<String> D_PROMPTS = List.of("<image>What colour is the shape?",
      "Look carefully at this picture: <image> Describe the shape, its colour and where it is"
          + " placed, using at most twenty words.");

  @TempDir static Path tmp;
  static QwenFixtures fx;
  static ModelRecipe recipe;
  static TextTokenizer tokenizer;
  static PolicyModel policy;
  static PromptProcessor processor;

  /** A complete checkpoint folder: a fixture checkpoint plus the shared tokenizer.json. */
  static Path checkpointFolder(QwenFixtures fx, String name, Path target) throws IOException {
    Files.createDirectories(target);
    try (Stream<Path> files = Files.list(fx.checkpoint(name))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    Files.copy(fx.tokenizerJson(), target.resolve("tokenizer.json"));
    return target;
  }

  static ModelConfig modelConfig(Path folder, int maxSeqLen) {
    ModelConfig d = ModelConfig.defaults();
    return new ModelConfig(ModelConfig.QWEN2_5_VL, folder.toString(), d.imageSize(), d.patchSize(),
        d.channels(), d.dModel(), d.layers(), d.heads(), d.ffnMult(), maxSeqLen, null, "builtin",
        "cpu", d.lora(), d.maxFullFineTuneParams());
  }

  @BeforeAll
  static void load() throws IOException {
    fx = QwenFixtures.open();
    Path folder = checkpointFolder(fx, "tiny-tied", tmp.resolve("tiny-tied"));
    recipe = ModelFamilies.recipe(modelConfig(folder, 512), 7);
    tokenizer = recipe.newTokenizer();
    policy = recipe.newModel(tokenizer, Device.cpu());
    processor = recipe.newPromptProcessor(tokenizer);
  }

  @AfterAll
  static void close() throws IOException {
    policy.close();
    tokenizer.close();
    fx.close();
  }

  static byte[] image(String name) throws IOException {
    return Files.readAllBytes(fx.image(name));
  }

  static PolicyInput caseA() throws IOException {
    return processor.process(A_PROMPT,
        List.of(image("a1_circle_red_56x84"), image("a2_square_blue_84x56")));
  }

  static long[] refIds(String c, int row, NDManager m) {
    long[] flat = fx.longs("inputs/" + c + "/input_ids", m);
    long[] mask = fx.longs("inputs/" + c + "/attention_mask", m);
    int rows = fx.caseJson(c).get("input_ids").size();
    int l = flat.length / rows;
    return java.util.stream.IntStream.range(row * l, row * l + l).filter(i -> mask[i] == 1)
        .mapToLong(i -> flat[i]).toArray();
  }

  static long[] asLongs(int[] ids) {
    return Arrays.stream(ids).asLongStream().toArray();
  }

  @Test
  void theFamilyIsRegisteredAndItsRecipeDescribesTheFolder() {
    assertEquals(ModelConfig.QWEN2_5_VL, recipe.familyName());
    assertTrue(ModelFamilies.names().contains(ModelConfig.QWEN2_5_VL));
    assertTrue(recipe.describe().contains("hidden=32"), recipe.describe());
    assertTrue(policy.describe().startsWith("qwen2_5_vl "), policy.describe());
    assertEquals(512, policy.maxSequenceLength());
    assertEquals(4981344L, policy.parameterCount(), "the fixture's n_params");
    assertEquals("model.embed_tokens.weight", policy.trainableParameters().get(0).getName());
    assertEquals(Qwen25VlWeights.names(((Qwen25VlPolicy) policy).model().config()),
        policy.trainableParameters().stream().map(Parameter::getName).toList(),
        "trainable parameters in the fixed Hub-name order");
  }

  @Test
  void aFolderWithoutTokenizerOrWeightsIsAModelPathError() throws IOException {
    Path noTokenizer = Files.createDirectories(tmp.resolve("no-tokenizer"));
    Files.copy(fx.checkpoint("tiny-tied").resolve("config.json"), noTokenizer.resolve("config.json"));
    ConfigException e = assertThrows(ConfigException.class,
        () -> ModelFamilies.recipe(modelConfig(noTokenizer, 512), 0));
    assertEquals("model.path", e.problems().get(0).key());
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    ModelConfig other = new ModelConfig(ModelConfig.QWEN2_5_VL, noTokenizer.toString(), 24, 8, 3,
        64, 2, 4, 4, 512, null, "/some/tokenizer.json", "cpu",
        io.perlspark.common.config.LoraSettings.defaults(), 500_000_000L);
    ConfigException t = assertThrows(ConfigException.class, () -> ModelFamilies.recipe(other, 0));
    assertEquals("model.tokenizer", t.problems().get(0).key());
  }

  @Test
  void canonicalPromptsBecomeTheReferenceIds() throws IOException {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      PolicyInput a = caseA();
      assertArrayEquals(refIds("A", 0, m), asLongs(a.promptTokens()));
      assertEquals(2, a.imageCount());
      assertArrayEquals(new int[] {1, 6, 4}, a.imageGrids()[0]);
      List<PolicyInput> d = caseD();
      for (int row = 0; row < 2; row++) {
        assertArrayEquals(refIds("D", row, m), asLongs(d.get(row).promptTokens()), "D row " + row);
      }
    }
  }

  static List<PolicyInput> caseD() throws IOException {
    return List.of(processor.process(D_PROMPTS.get(0), List.of(image("d1_circle_cyan_84x84"))),
        processor.process(D_PROMPTS.get(1), List.of(image("d2_triangle_orange_56x56"))));
  }

  /** The last 8 tokens of case A scored as a response equal HF's logprob_next there. */
  @Test
  void scoreEqualsTheReferenceLogProbs() throws IOException {
    PolicyInput whole = caseA();
    int n = whole.promptTokens().length;
    int k = 8;
    PolicyInput prompt = new PolicyInput(Arrays.copyOf(whole.promptTokens(), n - k),
        whole.images(), whole.imageGrids());
    int[] response = Arrays.copyOfRange(whole.promptTokens(), n - k, n);
    TokenScores s = policy.score(List.of(prompt), new int[][] {response}, 1f, true);
    float[] ref;
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        NDArray r = fx.tensor("tiny-tied/A/logprob_next", m)) {
      ref = r.toFloatArray(); // [1, n-1]: log p(ids[t+1] | ids[..t])
    }
    assertEquals(n - 1, ref.length);
    double max = 0;
    for (int j = 0; j < k; j++) {
      max = Math.max(max, Math.abs(s.logProbs()[0][j] - ref[n - k - 1 + j]));
    }
    System.out.printf("Qwen25VlPolicy score vs HF logprob_next (A, last %d): max |diff| %.3e%n",
        k, max);
    assertTrue(max <= 1e-4, "max |diff| " + max);
    for (float e : s.entropies()[0]) {
      assertTrue(e > 0 && Float.isFinite(e), "entropy " + e);
    }

    // The training path on a packed batch gives the same values (and a mask over real tokens).
    PackedBatch batch = policy.pack(List.of(prompt, prompt),
        new int[][] {response, Arrays.copyOf(response, 3)});
    assertArrayEquals(new int[] {k, 3}, batch.responseLengths());
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResponseTensors t = policy.responseTensors(m, batch, 1f, false, false);
      float[][] rows = batch.unpad(t.logProbs().toFloatArray());
      double packed = 0;
      for (int j = 0; j < k; j++) {
        packed = Math.max(packed, Math.abs(rows[0][j] - s.logProbs()[0][j]));
      }
      for (int j = 0; j < 3; j++) {
        packed = Math.max(packed, Math.abs(rows[1][j] - s.logProbs()[0][j]));
      }
      assertTrue(packed <= 1e-5, "packed vs score " + packed);
      assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
          batch.responseMask(m).toFloatArray());
    }
  }

  /**
   * Greedy generation through {@link PolicyModel#generate} equals the reference tokens up to the
   * first eos (the reference ran with min_new_tokens=12; ours stops at eos, marked finished).
   */
  @Test
  void greedyGenerationEqualsTheReference() throws IOException {
    List<PolicyInput> d = caseD();
    List<PolicyInput> prompts = List.of(caseA(), d.get(0), d.get(1));
    String[] refs = {"tiny-tied/A/gen/new_ids", "tiny-tied/D/gen/new_ids"};
    List<long[]> refRows = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      refRows.add(fx.longs(refs[0], m));
      long[] dIds = fx.longs(refs[1], m);
      refRows.add(Arrays.copyOfRange(dIds, 0, 12));
      refRows.add(Arrays.copyOfRange(dIds, 12, 24));
    }
    GenerationResult out = policy.generate(prompts, GenerationOptions.builder()
        .optTemperature(0f).optMaxNewTokens(12).setSeeds(1, 2, 3).build());
    int compared = 0;
    for (int b = 0; b < 3; b++) {
      long[] ref = refRows.get(b);
      int stop = 0;
      while (stop < ref.length && ref[stop] != 151645 && ref[stop] != 151643) {
        stop++;
      }
      int expectedLength = stop < ref.length ? stop + 1 : ref.length;
      assertEquals(expectedLength, out.tokens()[b].length, "row " + b);
      assertEquals(stop < ref.length, out.finished()[b], "row " + b + " finished");
      for (int s = 0; s < expectedLength; s++) {
        assertEquals(ref[s], out.tokens()[b][s], "row " + b + " step " + s);
        compared++;
      }
    }
    assertTrue(compared >= 12, "compared " + compared + " tokens");
  }

  /** Sampling: a sequence depends on its own seed only; the same seed repeats it. */
  @Test
  void samplingRespectsPerSequenceSeeds() throws IOException {
    PolicyInput a = caseA();
    GenerationOptions o = GenerationOptions.builder().optTemperature(1f).optMaxNewTokens(6)
        .optIgnoreEos(true).setSeeds(5, 6, 5).build();
    GenerationResult r = policy.generate(List.of(a, a, a), o);
    assertArrayEquals(r.tokens()[0], r.tokens()[2], "same seed, same prompt");
    assertFalse(Arrays.equals(r.tokens()[0], r.tokens()[1]), "other seed, other tokens");
    GenerationResult alone = policy.generate(List.of(a), o.withSeeds(6));
    assertArrayEquals(r.tokens()[1], alone.tokens()[0], "independent of the batch");
  }

  @Test
  void generationStopsAtMaxSequenceLength() throws IOException {
    PolicyInput a = caseA();
    int n = a.promptTokens().length;
    try (Qwen25VlPolicy bounded = new Qwen25VlPolicy(
        Qwen25VlModel.load(tmp.resolve("tiny-tied"), Device.cpu()), tokenizer, n + 3, "bounded")) {
      GenerationResult r = bounded.generate(List.of(a), GenerationOptions.builder()
          .optTemperature(1f).optMaxNewTokens(12).optIgnoreEos(true).setSeeds(1).build());
      assertEquals(3, r.tokens()[0].length);
      assertFalse(r.finished()[0]);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> bounded.score(List.of(a), new int[][] {{1, 2, 3, 4}}, 1f, false));
      assertTrue(e.getMessage().contains("model.maxSeqLen"), e.getMessage());
    }
  }

  /** Bytes → load restores every value bit for bit, in place; foreign bytes change nothing. */
  @Test
  void parametersRoundTripBitwiseInPlace() throws IOException {
    List<Parameter> params = policy.trainableParameters();
    List<NDArray> arrays = params.stream().map(Parameter::getArray).toList();
    float[] before = policy.flatParameters();
    byte[] bytes = policy.parametersToBytes();
    recipe.checkParameters(bytes);
    try {
      float[] shifted = before.clone();
      for (int i = 0; i < shifted.length; i += 7) {
        shifted[i] += 0.25f;
      }
      policy.setFlatParameters(shifted);
      assertFalse(Arrays.equals(before, policy.flatParameters()));
      policy.loadParameters(bytes);
      float[] after = policy.flatParameters();
      for (int i = 0; i < before.length; i++) {
        if (Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
          throw new AssertionError("value " + i + " differs: " + before[i] + " vs " + after[i]);
        }
      }
      assertArrayEquals(bytes, policy.parametersToBytes());
      for (int i = 0; i < params.size(); i++) {
        assertSame(params.get(i), policy.trainableParameters().get(i));
        assertSame(arrays.get(i), params.get(i).getArray(), "array of " + params.get(i).getName());
      }
      // Truncated bytes and another checkpoint's bytes are refused before any write.
      byte[] truncated = Arrays.copyOf(bytes, bytes.length - 4);
      assertThrows(IllegalArgumentException.class, () -> recipe.checkParameters(truncated));
      assertThrows(IllegalArgumentException.class, () -> policy.loadParameters(truncated));
      Path untied = checkpointFolder(fx, "tiny-untied", tmp.resolve("untied-" + System.nanoTime()));
      ModelRecipe other = ModelFamilies.recipe(modelConfig(untied, 512), 0);
      try (TextTokenizer t = other.newTokenizer(); PolicyModel o = other.newModel(t, Device.cpu())) {
        byte[] foreign = o.parametersToBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> recipe.checkParameters(foreign));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> policy.loadParameters(foreign));
      }
      assertArrayEquals(before, policy.flatParameters(), "refused bytes changed nothing");
    } finally {
      policy.loadParameters(bytes);
    }
  }

  /**
   * A permuted copy ({@link PolicyInput#withImageOrder}) of a prompt whose images have different
   * token counts gets the layout and positions of its own image order: it scores exactly as the
   * prompt processed from the swapped images, and differently from the original.
   */
  @Test
  void aPermutedPromptGetsItsOwnPositions() throws IOException {
    String text = "First: <image> Second: <image> Which one is green?";
    byte[] green = image("b1_triangle_green_50x70"); // grid (1, 4, 4): 4 tokens
    byte[] yellow = image("b2_circle_yellow_30x40"); // grid (1, 6, 4): 6 tokens
    PolicyInput original = processor.process(text, List.of(green, yellow));
    PolicyInput swapped = processor.process(text, List.of(yellow, green));
    PolicyInput permuted = original.withImageOrder(new int[] {1, 0});
    int[] response = tokenizer.encode("The answer is \\boxed{1}");
    List<PolicyInput> all = List.of(original, swapped, permuted);
    TokenScores s = policy.score(all, new int[][] {response, response, response}, 1f, false);
    double permVsSwapped = 0;
    double permVsOriginal = 0;
    for (int j = 0; j < response.length; j++) {
      permVsSwapped = Math.max(permVsSwapped, Math.abs(s.logProbs()[2][j] - s.logProbs()[1][j]));
      permVsOriginal = Math.max(permVsOriginal, Math.abs(s.logProbs()[2][j] - s.logProbs()[0][j]));
    }
    System.out.printf("permuted vs swapped %.3e, permuted vs original %.3e%n", permVsSwapped,
        permVsOriginal);
    assertTrue(permVsSwapped <= 1e-5, "permuted vs processed from swapped images: " + permVsSwapped);
    assertTrue(permVsOriginal > 1e-3, "the image order matters: " + permVsOriginal);
    assertArrayEquals(swapped.promptTokens(),
        ((Qwen25VlPolicy) policy).prompt(permuted, 0).inputIds(), "same token layout");
  }

  @Test
  void decodingLeavesOutSpecialTokens() {
    int[] ids = tokenizer.encode("The answer is \\boxed{2}");
    int[] withEos = Arrays.copyOf(ids, ids.length + 2);
    withEos[ids.length] = tokenizer.eosId();
    withEos[ids.length + 1] = 151900; // beyond the tokenizer's vocabulary, inside the model's
    assertEquals("The answer is \\boxed{2}", tokenizer.decode(withEos));
    assertEquals(151645, tokenizer.eosId(), "<|im_end|> ends an assistant turn");
    assertEquals(151936, tokenizer.vocabSize(), "the model's vocabulary");
  }

  /**
   * GRPO gradients through the policy (the jobs' GradientWorker) are finite and do not depend on
   * the garbage collector, also after the parameters were loaded from bytes (as on executors).
   */
  @Test
  void grpoGradientsAreFiniteAndIndependentOfTheGarbageCollector() throws Exception {
    byte[] bytes = policy.parametersToBytes();
    policy.loadParameters(bytes);
    List<PolicyInput> d = caseD();
    List<PolicyInput> prompts = List.of(caseA(), d.get(0), d.get(1), caseA());
    GenerationResult gen = policy.generate(prompts, GenerationOptions.builder().optTemperature(1f)
        .optMaxNewTokens(10).setSeeds(1, 2, 3, 4).build());
    TokenScores ref = policy.score(prompts, gen.tokens(), 1f, false);
    List<io.perlspark.model.train.TrainingExample> examples = new ArrayList<>();
    double[] advantages = {1.0, -0.5, 0.5, -1.0};
    for (int i = 0; i < prompts.size(); i++) {
      examples.add(new io.perlspark.model.train.TrainingExample(prompts.get(i), gen.tokens()[i],
          gen.logProbs()[i], ref.logProbs()[i], advantages[i]));
    }
    io.perlspark.model.loss.GrpoLossConfig cfg = io.perlspark.model.loss.GrpoLossConfig.defaults();
    double normaliser = 0;
    for (int[] t : gen.tokens()) {
      normaliser += t.length;
    }
    io.perlspark.model.train.GradientResult quiet = io.perlspark.model.train.GradientWorker
        .grpoGradients(policy, examples, cfg, normaliser, 2, 1f);
    double norm = 0;
    for (float g : quiet.gradient()) {
      assertTrue(Float.isFinite(g), "finite gradient");
      norm += (double) g * g;
    }
    assertTrue(Math.sqrt(norm) > 1e-3, "the advantages give a gradient: " + Math.sqrt(norm));
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread churn = new Thread(() -> {
      while (!stop.get()) {
        io.perlspark.model.policy.ConstantsTest.churn();
      }
    });
    churn.start();
    try {
      for (int rep = 0; rep < 3; rep++) {
        policy.loadParameters(bytes);
        io.perlspark.model.train.GradientResult noisy = io.perlspark.model.train.GradientWorker
            .grpoGradients(policy, examples, cfg, normaliser, 2, 1f);
        double max = 0;
        for (int i = 0; i < quiet.gradient().length; i++) {
          max = Math.max(max, Math.abs(quiet.gradient()[i] - noisy.gradient()[i]));
        }
        assertTrue(max <= 1e-6 * Math.sqrt(norm) + 1e-9, "repetition " + rep + ": " + max);
      }
    } finally {
      stop.set(true);
      churn.join();
    }
  }
}
