package io.perlspark.model.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.ConfigException;
import io.perlspark.model.family.qwen25vl.Qwen25VlConfig;
import io.perlspark.model.family.qwen25vl.Qwen25VlModel;
import io.perlspark.model.family.qwen25vl.Qwen25VlPolicy;
import io.perlspark.model.family.qwen25vl.Qwen25VlPrecision;
import io.perlspark.model.family.qwen25vl.Qwen25VlRandomInit;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.lora.LoraConfig;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.TokenScores;
import io.perlspark.model.tokenizer.WordTokenizer;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.GradientWorker;
import io.perlspark.model.train.TrainingExample;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The GPU benchmark of a random-init Qwen2.5-VL through the public model APIs training uses
 * (bench/gpu/run.sh): (a) rollout generation with forced length, (b) reference scoring of the same
 * sequences, (c) one LoRA GRPO update ({@link GradientWorker#grpoGradients} + {@link AdamW} over
 * the adapters), (d) CPU-vs-device parity on a tiny model. One JSON object per line on stdout.
 *
 * <p>Exit codes: 0 all phases ran and parity held, 1 a phase failed or parity did not hold, 2 a
 * usage error (one line on stderr).
 */
public final class QwenGpuBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Built-in configs (copies of conf/models/qwen2_5_vl-*), so the jar alone can run the bench. */
  private static final Map<String, String> BUILT_IN = Map.of(
      "tiny", "qwen2_5_vl-tiny", "3b", "qwen2_5_vl-3b");

  private final BenchOptions opt;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private boolean failed;

  private QwenGpuBench(BenchOptions opt, PrintStream out) {
    this.opt = opt;
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the benchmark; returns the exit code (see the class comment). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    BenchOptions opt;
    try {
      opt = BenchOptions.parse(args);
      requireSupportedDtype(opt.dtype()); // a bad name stops before any model work
    } catch (BenchOptions.UsageException e) {
      err.println(e.getMessage());
      return 2;
    }
    try {
      return new QwenGpuBench(opt, out).runAll();
    } catch (BenchOptions.UsageException e) {
      err.println("QwenGpuBench: " + e.getMessage());
      return 2;
    }
  }

  /** The {@code --dtype} name as a model type (float32 | bfloat16 | float16), checked up front. */
  static DataType requireSupportedDtype(String dtype) throws BenchOptions.UsageException {
    try {
      return Qwen25VlPrecision.of(dtype);
    } catch (IllegalArgumentException e) {
      throw new BenchOptions.UsageException("--dtype " + e.getMessage());
    }
  }

  private int runAll() throws BenchOptions.UsageException {
    Device device = device();
    DataType dtype = requireSupportedDtype(opt.dtype());
    try {
      Qwen25VlPrecision.requireSupported(dtype); // bfloat16 needs a JNI that maps it
    } catch (ConfigException e) {
      throw new BenchOptions.UsageException("--dtype " + opt.dtype() + ": " + e.getMessage());
    }
    Qwen25VlConfig config = config(opt.config());
    Map<String, Object> head = line("setup");
    head.put("engine_version", Engines.engine().getVersion());
    head.put("gpu_count", Engines.engine().getGpuCount());
    head.put("hidden", config.hiddenSize());
    head.put("layers", config.numLayers());
    head.put("heads", config.numHeads());
    head.put("kv_heads", config.numKvHeads());
    head.put("vision_depth", config.vision().depth());
    head.put("vision_hidden", config.vision().hiddenSize());
    head.put("vocab", config.vocabSize());

    boolean needsBig = opt.phases().contains("generate") || opt.phases().contains("score")
        || opt.phases().contains("update");
    if (needsBig) {
      LoraConfig lora = LoraConfig.of(opt.loraRank(), opt.loraAlpha());
      long t0 = System.nanoTime();
      Qwen25VlModel model;
      try (PeakMemory mem = PeakMemory.start(device)) {
        model = Qwen25VlModel.random(config, initializerRange(opt.config()), opt.seed(), device,
            dtype, lora, opt.seed() + 1);
        head.put("init_s", seconds(t0));
        head.put("base_parameters", model.parameterCount());
        head.put("lora_parameters", model.lora().parameterCount());
        head.put("memory_after_init_bytes", mem.peak());
      }
      emit(head);
      Inputs inputs = Inputs.of(config, opt);
      try (Qwen25VlPolicy policy = new Qwen25VlPolicy(model, WordTokenizer.of(List.of()),
          inputs.promptLength() + opt.newTokens(), "random init " + opt.config())) {
        warmUp(policy, inputs);
        int[][] responses = phase("generate", () -> generate(policy, inputs));
        if (responses == null) {
          // scoring and the update need responses: forced-length random ones when not generated
          responses = inputs.randomResponses(opt.newTokens(), config.vocabSize());
        }
        int[][] finalResponses = responses;
        TokenScores scores = phase("score", () -> score(policy, inputs, finalResponses));
        phase("update", () -> update(policy, inputs, finalResponses, scores));
      }
    } else {
      emit(head);
    }
    phase("parity", this::parity);
    Map<String, Object> done = line("summary");
    done.put("ok", !failed);
    done.put("total_s", seconds(start));
    emit(done);
    return failed ? 1 : 0;
  }

  // ------------------------------------------------------------------ phases

  private interface Phase<T> {
    T run() throws Exception;
  }

  /** Runs a phase unless not asked for or out of budget; a failure is a JSON line, not a crash. */
  private <T> T phase(String name, Phase<T> body) {
    if (!opt.phases().contains(name)) {
      return null;
    }
    if (opt.budgetSeconds() > 0 && seconds(start) > opt.budgetSeconds()) {
      Map<String, Object> skipped = line(name);
      skipped.put("skipped", "budget of " + opt.budgetSeconds() + " s spent");
      emit(skipped);
      failed = true;
      return null;
    }
    try {
      return body.run();
    } catch (Exception | OutOfMemoryError e) {
      Map<String, Object> error = line(name);
      error.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      emit(error);
      failed = true;
      return null;
    }
  }

  /** One tiny generate so that CUDA context and kernel loading stay out of the timings. */
  private void warmUp(Qwen25VlPolicy policy, Inputs inputs) {
    long t0 = System.nanoTime();
    policy.generate(inputs.prompts().subList(0, 1), forced(2, 1));
    Map<String, Object> l = line("warmup");
    l.put("seconds", seconds(t0));
    emit(l);
  }

  private int[][] generate(Qwen25VlPolicy policy, Inputs inputs) {
    Device device = policy.device();
    int n = opt.prompts();
    int chunk = opt.generationBatch() == 0 ? n : opt.generationBatch();
    Map<String, Object> l = line("generate");
    try (PeakMemory mem = PeakMemory.start(device)) {
      // prefill = a generate of one token (the first token is sampled from the prefill logits)
      long t0 = System.nanoTime();
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        policy.generate(inputs.prompts().subList(from, to), forced(1, to - from));
      }
      double prefill = seconds(t0);
      int[][] tokens = new int[n][];
      long t1 = System.nanoTime();
      long generated = 0;
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        GenerationResult r = policy.generate(inputs.prompts().subList(from, to),
            forced(opt.newTokens(), to - from));
        for (int i = 0; i < to - from; i++) {
          tokens[from + i] = r.tokens()[i];
          generated += r.tokens()[i].length;
        }
      }
      double total = seconds(t1);
      l.put("prompts", n);
      l.put("generation_batch", chunk);
      l.put("prompt_tokens", inputs.promptLength());
      l.put("new_tokens", opt.newTokens());
      l.put("generated_tokens", generated);
      l.put("prefill_s", prefill);
      l.put("generate_s", total);
      l.put("generated_tokens_per_s", generated / total);
      if (opt.newTokens() > 1) {
        l.put("decode_ms_per_step",
            1000.0 * Math.max(0, total - prefill) / ((opt.newTokens() - 1) * (double) ceilDiv(n, chunk)));
      }
      l.put("peak_memory_bytes", mem.peak());
      l.put("memory_before_bytes", mem.before());
      if (generated != (long) n * opt.newTokens()) {
        l.put("error", "expected " + ((long) n * opt.newTokens()) + " forced tokens, got " + generated);
        failed = true;
      }
      emit(l);
      return tokens;
    }
  }

  private TokenScores score(Qwen25VlPolicy policy, Inputs inputs, int[][] responses) {
    int n = opt.prompts();
    int chunk = opt.scoringBatch() == 0 ? n : opt.scoringBatch();
    Map<String, Object> l = line("score");
    try (PeakMemory mem = PeakMemory.start(policy.device())) {
      float[][] logProbs = new float[n][];
      long t0 = System.nanoTime();
      long tokens = 0;
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        TokenScores s = policy.score(inputs.prompts().subList(from, to),
            Arrays.copyOfRange(responses, from, to), 1f, false);
        for (int i = 0; i < to - from; i++) {
          logProbs[from + i] = s.logProbs()[i];
          tokens += inputs.promptLength() + responses[from + i].length;
        }
      }
      double secs = seconds(t0);
      long responseTokens = Arrays.stream(responses).mapToLong(r -> r.length).sum();
      l.put("sequences", n);
      l.put("scoring_batch", chunk);
      l.put("tokens", tokens);
      l.put("score_s", secs);
      l.put("tokens_per_s", tokens / secs);
      l.put("response_tokens_per_s", responseTokens / secs);
      l.put("peak_memory_bytes", mem.peak());
      requireFinite(l, logProbs);
      emit(l);
      return new TokenScores(logProbs, null);
    }
  }

  private Object update(Qwen25VlPolicy policy, Inputs inputs, int[][] responses, TokenScores scores) {
    int n = opt.updateSequences();
    List<TrainingExample> examples = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      // old = reference = the scored log-probs (ratio 1, KL 0 at the first step of a run);
      // advantages +-1 as in a group with both outcomes
      float[] old = scores != null ? scores.logProbs()[i] : new float[responses[i].length];
      examples.add(new TrainingExample(inputs.prompts().get(i), responses[i], old, old,
          i % 2 == 0 ? 1.0 : -1.0));
    }
    GrpoLossConfig cfg = GrpoLossConfig.defaults();
    double normaliser = GradientWorker.normaliser(examples, cfg.aggregation());
    int micro = opt.updateMicroBatch() == 0 ? n : opt.updateMicroBatch();
    AdamW adamW = new AdamW(0.0);
    Map<String, Object> l = line("update");
    try (PeakMemory mem = PeakMemory.start(policy.device())) {
      long t0 = System.nanoTime();
      GradientResult g = GradientWorker.grpoGradients(policy, examples, cfg, normaliser, micro, 1f);
      double backward = seconds(t0);
      long t1 = System.nanoTime();
      float[] params = policy.flatParameters();
      adamW.step(params, g.gradient(), 1e-5);
      policy.setFlatParameters(params);
      double optimizer = seconds(t1);
      double total = seconds(t0);
      long tokens = 0;
      for (int i = 0; i < n; i++) {
        tokens += inputs.promptLength() + responses[i].length;
      }
      l.put("sequences", n);
      l.put("micro_batch", micro);
      l.put("tokens", tokens);
      l.put("trainable_parameters", policy.parameterCount());
      l.put("loss_backward_s", backward);
      l.put("adamw_s", optimizer);
      l.put("update_s", total);
      l.put("tokens_per_s", tokens / total);
      l.put("peak_memory_bytes", mem.peak());
      double norm = 0;
      for (float v : g.gradient()) {
        norm += (double) v * v;
      }
      l.put("grad_norm", Math.sqrt(norm));
      if (!(Math.sqrt(norm) > 0) || !Double.isFinite(norm)) {
        l.put("error", "the adapters' gradient norm is " + Math.sqrt(norm));
        failed = true;
      }
      emit(l);
    }
    return null;
  }

  /** Greedy tokens and log-probs of a tiny model on the CPU and on the bench device. */
  private Object parity() throws IOException, BenchOptions.UsageException {
    Device device = device();
    Map<String, Object> l = line("parity");
    l.put("compared", "cpu-vs-" + (device.isGpu() ? "gpu" : "cpu"));
    Qwen25VlConfig config;
    Qwen25VlModel cpuModel;
    if (opt.parityCheckpoint() != null) {
      Path folder = Path.of(opt.parityCheckpoint());
      if (!Files.isRegularFile(folder.resolve("config.json"))) {
        throw new BenchOptions.UsageException("--parity-checkpoint " + folder + " has no config.json");
      }
      config = Qwen25VlConfig.load(folder);
      cpuModel = Qwen25VlModel.load(folder, config, Device.cpu());
      l.put("model", folder.toString());
    } else {
      config = config("tiny");
      cpuModel = Qwen25VlModel.random(config, initializerRange("tiny"), opt.seed(), Device.cpu(),
          null, 0);
      l.put("model", "tiny random init");
    }
    BenchOptions small = new BenchOptions("tiny", "cpu", "float32", opt.parityPrompts(),
        Math.min(opt.imagesPerPrompt(), 2), 56, 24, opt.parityNewTokens(), 0, 0, 1, 0, 1, 2, 2,
        opt.seed(), opt.phases(), null, 0, 0, 1, 0, null);
    Inputs inputs = Inputs.of(config, small);
    int maxLen = inputs.promptLength() + opt.parityNewTokens();
    try (Qwen25VlPolicy cpu = new Qwen25VlPolicy(cpuModel, WordTokenizer.of(List.of()), maxLen, "cpu");
        Qwen25VlPolicy dev = new Qwen25VlPolicy(
            Qwen25VlModel.random(config, 0.02, opt.seed() + 99, device, null, 0),
            WordTokenizer.of(List.of()), maxLen, "device")) {
      // the same weights on both: the CPU model's exact bytes
      dev.loadParameters(cpu.parametersToBytes());
      GenerationOptions greedy = forced(opt.parityNewTokens(), opt.parityPrompts());
      GenerationResult a = cpu.generate(inputs.prompts(), greedy);
      GenerationResult b = dev.generate(inputs.prompts(), greedy);
      boolean tokensEqual = Arrays.deepEquals(a.tokens(), b.tokens());
      TokenScores sa = cpu.score(inputs.prompts(), a.tokens(), 1f, false);
      TokenScores sb = dev.score(inputs.prompts(), a.tokens(), 1f, false);
      double maxDiff = 0;
      for (int i = 0; i < sa.logProbs().length; i++) {
        for (int j = 0; j < sa.logProbs()[i].length; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(sa.logProbs()[i][j] - sb.logProbs()[i][j]));
        }
      }
      boolean ok = tokensEqual && maxDiff <= opt.parityTolerance();
      l.put("prompts", opt.parityPrompts());
      l.put("new_tokens", opt.parityNewTokens());
      l.put("greedy_tokens_equal", tokensEqual);
      l.put("max_abs_logprob_diff", maxDiff);
      l.put("tolerance", opt.parityTolerance());
      l.put("ok", ok);
      failed |= !ok;
      emit(l);
    }
    return null;
  }

  // ------------------------------------------------------------------ helpers

  private Device device() throws BenchOptions.UsageException {
    if (opt.device().equals("cpu")) {
      return Device.cpu();
    }
    Engine engine = Engines.engine();
    if (engine.getGpuCount() < 1) {
      throw new BenchOptions.UsageException("--device gpu, but DJL sees no GPU (engine "
          + engine.getEngineName() + " " + engine.getVersion() + "). Build and select a CUDA JNI"
          + " with deploy/gpu/build-jni.sh and source the env file it writes (PYTORCH_LIBRARY_PATH,"
          + " PYTORCH_VERSION, PYTORCH_FLAVOR, DJL_OFFLINE, -Djna.library.path)");
    }
    return Device.gpu(0);
  }

  private static GenerationOptions forced(int newTokens, int prompts) {
    long[] seeds = new long[prompts];
    Arrays.setAll(seeds, i -> 1000L + i);
    return new GenerationOptions(0f, 1f, newTokens, seeds, true);
  }

  static Qwen25VlConfig config(String name) throws BenchOptions.UsageException {
    JsonNode config = json(name, "config.json", true);
    JsonNode generation = json(name, "generation_config.json", false);
    try {
      return Qwen25VlConfig.fromJson(config, generation);
    } catch (RuntimeException e) {
      throw new BenchOptions.UsageException("--config " + name + ": " + e.getMessage());
    }
  }

  private static double initializerRange(String name) throws BenchOptions.UsageException {
    JsonNode root = json(name, "config.json", true);
    JsonNode text = root.has("text_config") ? root.get("text_config") : root;
    JsonNode r = text.has("initializer_range") ? text.get("initializer_range")
        : root.get("initializer_range");
    return r == null ? 0.02 : r.asDouble();
  }

  private static JsonNode json(String name, String file, boolean required)
      throws BenchOptions.UsageException {
    try {
      String builtIn = BUILT_IN.get(name);
      if (builtIn != null) {
        try (InputStream in = QwenGpuBench.class.getResourceAsStream(builtIn + "/" + file)) {
          if (in == null) {
            if (required) {
              throw new IllegalStateException("the jar lacks the built-in " + builtIn + "/" + file);
            }
            return null;
          }
          return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
      Path folder = Path.of(name);
      Path f = Files.isDirectory(folder) ? folder.resolve(file)
          : file.equals("config.json") ? folder : folder.resolveSibling(file);
      if (!Files.isRegularFile(f)) {
        if (required) {
          throw new BenchOptions.UsageException("--config " + name + ": not tiny, 3b, nor a folder"
              + " or file holding " + file);
        }
        return null;
      }
      return JSON.readTree(f.toFile());
    } catch (IOException e) {
      throw new BenchOptions.UsageException("--config " + name + ": cannot read " + file + " ("
          + e.getMessage() + ")");
    }
  }

  private void requireFinite(Map<String, Object> l, float[][] values) {
    for (float[] row : values) {
      for (float v : row) {
        if (!Float.isFinite(v)) {
          l.put("error", "a non-finite log-prob: " + v);
          failed = true;
          return;
        }
      }
    }
  }

  private Map<String, Object> line(String phase) {
    Map<String, Object> l = new LinkedHashMap<>();
    l.put("bench", "qwen25vl");
    l.put("phase", phase);
    l.put("config", opt.config());
    l.put("device", opt.device());
    l.put("dtype", opt.dtype());
    l.put("memory_kind", PeakMemory.kind(opt.device().equals("gpu") ? Device.gpu(0) : Device.cpu()));
    return l;
  }

  private void emit(Map<String, Object> l) {
    l.put("elapsed_s", seconds(start));
    String s;
    try {
      s = JSON.writeValueAsString(l);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    out.println(s);
    out.flush();
    if (opt.out() != null) {
      try {
        Files.writeString(Path.of(opt.out()), s + "\n", StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new IllegalStateException("cannot append to --out " + opt.out() + ": " + e.getMessage());
      }
    }
  }

  private static double seconds(long fromNanos) {
    return (System.nanoTime() - fromNanos) / 1e9;
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /**
   * Seeded synthetic prompts: random text ids (below the special tokens) around one vision
   * start / image pad / vision end run per image, and a pool of random pixel patches that the
   * prompts share (the model copies each to native memory per forward, as training does).
   */
  record Inputs(List<PolicyInput> prompts, int promptLength, long seed) {
    static Inputs of(Qwen25VlConfig c, BenchOptions o) {
      SplittableRandom random = new SplittableRandom(o.seed() * 31 + 7);
      int side = o.imageSize() / c.vision().patchSize();
      int[] grid = {1, side, side};
      int patches = side * side;
      int merged = patches / c.vision().mergeUnit();
      float[][] pool = new float[Math.min(o.distinctImages(), Math.max(1, o.prompts() * o.imagesPerPrompt()))][];
      for (int k = 0; k < pool.length; k++) {
        float[] px = new float[patches * c.vision().patchDim()];
        for (int i = 0; i < px.length; i++) {
          px[i] = (float) (random.nextDouble() * 4 - 2); // normalised pixel range
        }
        pool[k] = px;
      }
      int textOnly = o.textTokens() - 2 * o.imagesPerPrompt();
      int textLimit = Math.min(c.vocabSize(), 151_643); // below Qwen's special tokens
      List<PolicyInput> prompts = new ArrayList<>(o.prompts());
      for (int p = 0; p < o.prompts(); p++) {
        int[] ids = new int[textOnly + 3 * o.imagesPerPrompt()];
        int w = 0;
        int perGap = textOnly / (o.imagesPerPrompt() + 1);
        float[][] images = new float[o.imagesPerPrompt()][];
        int[][] grids = new int[o.imagesPerPrompt()][];
        for (int img = 0; img < o.imagesPerPrompt(); img++) {
          for (int t = 0; t < perGap; t++) {
            ids[w++] = random.nextInt(textLimit);
          }
          ids[w++] = c.visionStartTokenId();
          ids[w++] = c.imageTokenId();
          ids[w++] = c.visionEndTokenId();
          images[img] = pool[(p * o.imagesPerPrompt() + img) % pool.length];
          grids[img] = grid.clone();
        }
        while (w < ids.length) {
          ids[w++] = random.nextInt(textLimit);
        }
        prompts.add(new PolicyInput(ids, images, grids));
      }
      return new Inputs(prompts, o.textTokens() + o.imagesPerPrompt() * merged, o.seed());
    }

    int[][] randomResponses(int length, int vocab) {
      SplittableRandom random = new SplittableRandom(seed * 131 + 3);
      int[][] r = new int[prompts.size()][length];
      for (int[] row : r) {
        for (int i = 0; i < length; i++) {
          row[i] = random.nextInt(Math.min(vocab, 151_643));
        }
      }
      return r;
    }
  }
}
