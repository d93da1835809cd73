package io.perlspark.model.train;

import io.perlspark.model.family.builtin.TinyVlmBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.perlspark.common.data.Sample;
import io.perlspark.common.rl.GroupAdvantages;
import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.family.builtin.GenerationBenchmark;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.family.builtin.ModelSpec;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.family.builtin.TinyVlm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The perl-model benchmark (not a unit test): generation throughput with and without the KV cache,
 * GRPO and SFT step times at the demo sizes, achieved FLOP/s against a measured matmul peak, and
 * resident memory over many generate+update iterations. Run it with {@code
 * bench/run-model-bench.sh} ({@code --quick} for a smoke run); it prints a plain-text report.
 */
public final class ModelBench {
  /** Timed rounds per generation setting; the machine is shared, so medians and bests are shown. */
  private static final int ROUNDS = 3;

  private final boolean quick;

  private ModelBench(boolean quick) {
    this.quick = quick;
  }

  public static void main(String[] args) throws Exception {
    boolean quick = Arrays.asList(args).contains("--quick");
    new ModelBench(quick).run();
  }

  private void run() throws IOException {
    header();
    double peak = peakFlops();
    if (!Boolean.getBoolean("bench.skipGeneration")) {
      generation();
    }
    training(peak);
    if (!Boolean.getBoolean("bench.skipMemory")) {
      memory();
    }
    out("load average at the end: %s", Files.readString(Path.of("/proc/loadavg")).trim());
  }

  // ---------------------------------------------------------------- environment

  private void header() throws IOException {
    String cpu = "unknown";
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        cpu = line.substring(line.indexOf(':') + 1).trim();
        break;
      }
    }
    out("# perl-model benchmark%s", quick ? " (--quick: fewer repeats, not for reporting)" : "");
    out("date: %s", ZonedDateTime.now());
    out("cpu: %s, %d logical cores visible to the JVM", cpu,
        Runtime.getRuntime().availableProcessors());
    out("java: %s %s; max heap %d MiB", System.getProperty("java.vm.name"),
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);
    out("load average at the start: %s (other processes share these cores)",
        Files.readString(Path.of("/proc/loadavg")).trim());
    out("djl: engine %s %s, ai.djl.pytorch.num_threads=%s", Engines.engine().getEngineName(),
        Engines.engine().getVersion(), System.getProperty("ai.djl.pytorch.num_threads", "(default)"));
    out("model: calibration spec %s, %d parameters", TrainFixtures.SPEC,
        TrainFixtures.SPEC.parameterCount());
    out("");
  }

  /** Best float32 matmul rate over a few sizes, through the same engine and thread setting. */
  @SuppressWarnings("try")
  private double peakFlops() {
    out("## Peak: float32 matmul through DJL (n x n times n x n, 2n^3 FLOPs)");
    double best = 0;
    try (Engines.NoGrad noGrad = Engines.noGrad();
        NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      for (int n : new int[] {256, 512, 1024, 2048}) {
        NDArray a = m.randomUniform(-1, 1, new Shape(n, n));
        NDArray b = m.randomUniform(-1, 1, new Shape(n, n));
        int reps = Math.max(2, (int) (4e9 / (2.0 * n * n * n)));
        if (quick) {
          reps = Math.max(1, reps / 4);
        }
        a.matMul(b).close();
        double bestSeconds = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
          long t0 = System.nanoTime();
          for (int r = 0; r < reps; r++) {
            try (NDArray c = a.matMul(b)) {
              c.getFloat(0, 0); // forces completion
            }
          }
          bestSeconds = Math.min(bestSeconds, (System.nanoTime() - t0) / 1e9 / reps);
        }
        double flops = 2.0 * n * n * n / bestSeconds;
        best = Math.max(best, flops);
        out("n=%4d: %7.2f GFLOP/s (best of 3 rounds of %d)", n, flops / 1e9, reps);
      }
    }
    out("peak (best): %.2f GFLOP/s", best / 1e9);
    out("");
    return best;
  }

  // ---------------------------------------------------------------- generation

  private void generation() {
    // 256 new tokens after a 4-image prompt (46 positions) need maxSeqLen >= 302; the demo spec has 80.
    ModelSpec spec = TrainFixtures.SPEC.withMaxSeqLen(320);
    out("## Generation, batch 8, eos ignored (every response has exactly N tokens)");
    out("spec: calibration sizes with maxSeqLen=320 (the demo's 80 cannot hold 256 new tokens;");
    out("the position table is the only difference). Prompts: eval items 0..7 (2-4 images each).");
    SyntheticBenchmark bench = TrainFixtures.benchmark(1);
    List<PolicyInput> prompts = TrainFixtures.prompts(TrainFixtures.items(bench, Split.EVAL, 0, 8), spec);
    try (TinyVlm model = TrainFixtures.model(spec, 1)) {
      out("tokens/s, median and best of %d rounds (each round: one warm-up call, then timed calls)", ROUNDS);
      out("%-10s %20s %20s %16s", "newTokens", "KV cache", "no cache", "speedup (median)");
      for (int tokens : new int[] {16, 64, 256}) {
        int repeats = quick ? 1 : tokens == 256 ? 1 : tokens == 64 ? 2 : 6;
        double[] cached = new double[ROUNDS];
        double[] plain = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
          cached[r] = GenerationBenchmark.measure(model, prompts, tokens, repeats, true).tokensPerSecond();
          plain[r] = GenerationBenchmark.measure(model, prompts, tokens, repeats, false).tokensPerSecond();
        }
        out("%-10d %9.0f / %8.0f %9.0f / %8.0f %15.2fx", tokens, median(cached), max(cached),
            median(plain), max(plain), median(cached) / median(plain));
      }
    }
    out("");
  }

  // ---------------------------------------------------------------- training steps

  private void training(double peak) {
    ModelSpec spec = TrainFixtures.SPEC;
    SyntheticBenchmark bench = TrainFixtures.benchmark(1);
    int sftBatch = 64;
    int sftSteps = quick ? 6 : 30;
    List<SftExample> sft =
        TrainFixtures.sftExamples(TrainFixtures.items(bench, Split.SFT, 0, sftBatch * sftSteps), spec);
    try (TinyVlm model = TrainFixtures.model(3);
        TinyVlm reference = TrainFixtures.model(3)) {
      // SFT step at batch 64; these steps are also the warm start, so rollouts below have
      // realistic lengths (the format is learned by ~25 steps).
      LocalTrainer warm =
          LocalTrainer.create(model, new AdamW(0.0), LrSchedule.constant(2e-3), 1.0, sftBatch);
      double[] sftSeconds = new double[sftSteps];
      double sftFlops = 0;
      for (int s = 0; s < sftSteps; s++) {
        List<SftExample> batch = sft.subList(s * sftBatch, (s + 1) * sftBatch);
        long t0 = System.nanoTime();
        warm.sftStep(batch);
        sftSeconds[s] = (System.nanoTime() - t0) / 1e9;
        if (s == sftSteps - 1) {
          List<PolicyInput> p = new ArrayList<>();
          int[][] r = new int[batch.size()][];
          for (int i = 0; i < batch.size(); i++) {
            p.add(batch.get(i).prompt());
            r[i] = batch.get(i).response();
          }
          sftFlops = trainingFlops(spec, model.pack(p, r));
        }
      }
      double sftMedian = median(Arrays.copyOfRange(sftSeconds, 1, sftSteps));
      double sftBest = min(Arrays.copyOfRange(sftSeconds, 1, sftSteps));
      out("## SFT step, batch 64 (one micro-batch; gradients + AdamW + write-back)");
      out("%d steps (first excluded): median %.1f ms, best %.1f ms; %.2f GFLOP per step",
          sftSteps - 1, sftMedian * 1e3, sftBest * 1e3, sftFlops / 1e9);
      out("achieved: %.2f GFLOP/s median (%.0f%% of peak), %.2f best (%.0f%%)",
          sftFlops / sftMedian / 1e9, 100 * sftFlops / sftMedian / peak, sftFlops / sftBest / 1e9,
          100 * sftFlops / sftBest / peak);
      out("");

      reference.setFlatParameters(model.flatParameters());
      for (String micro : System.getProperty("bench.micro", "16,64").split(",")) {
        grpo(model, reference, bench, peak, Integer.parseInt(micro.trim()));
      }
    }
  }

  /** GRPO steps at the demo sizes: 32 prompts x 8 responses, 2 mini-batches of 16 prompts. */
  private void grpo(TinyVlm model, TinyVlm reference, SyntheticBenchmark bench, double peak, int micro) {
    int prompts = 32;
    int n = 8;
    int miniBatches = 2;
    int steps = quick ? 2 : 6;
    GrpoLossConfig cfg = GrpoLossConfig.defaults();
    PolicyUpdater updater =
        PolicyUpdater.create(model, new AdamW(0.9, 0.999, 1e-8, 0.01), LrSchedule.constant(3e-4), 1.0);
    float[] start = model.flatParameters();
    double[] gen = new double[steps];
    double[] ref = new double[steps];
    double[] reward = new double[steps];
    double[] grad = new double[steps];
    double[] opt = new double[steps];
    double[] flops = new double[steps];
    double[] tokens = new double[steps];
    double[] responseTokens = new double[steps];
    for (int s = 0; s < steps; s++) {
      List<SynthItem> items = TrainFixtures.items(bench, Split.TRAIN, s * prompts, prompts);
      List<PolicyInput> base = TrainFixtures.prompts(items, TrainFixtures.SPEC);
      List<Sample> samples = TrainFixtures.samples(items);
      List<PolicyInput> expanded = new ArrayList<>();
      long[] seeds = new long[prompts * n];
      for (int p = 0; p < prompts; p++) {
        for (int k = 0; k < n; k++) {
          expanded.add(base.get(p));
          seeds[p * n + k] = 7_919L * s + 31L * p + k;
        }
      }
      long t0 = System.nanoTime();
      GenerationResult g =
          model.generate(
              expanded,
              GenerationOptions.builder().optTemperature(1f).optMaxNewTokens(32).setSeeds(seeds).build());
      long t1 = System.nanoTime();
      float[][] refLogProbs = reference.score(expanded, g.tokens(), 1f, false).logProbs();
      long t2 = System.nanoTime();
      List<TrainingExample> examples = new ArrayList<>();
      for (int p = 0; p < prompts; p++) {
        double[] rewards = new double[n];
        for (int k = 0; k < n; k++) {
          rewards[k] =
              TrainFixtures.REWARD
                  .score(TrainFixtures.TOKENIZER.decode(g.withoutEos(p * n + k)), samples.get(p))
                  .total();
        }
        double[] adv = GroupAdvantages.compute(rewards, true);
        for (int k = 0; k < n; k++) {
          int i = p * n + k;
          examples.add(
              new TrainingExample(expanded.get(i), g.tokens()[i], g.logProbs()[i], refLogProbs[i], adv[k]));
        }
      }
      long t3 = System.nanoTime();
      int per = examples.size() / miniBatches;
      for (int mb = 0; mb < miniBatches; mb++) {
        List<TrainingExample> part = examples.subList(mb * per, (mb + 1) * per);
        double normaliser = GradientWorker.normaliser(part, cfg.aggregation());
        long a = System.nanoTime();
        GradientResult r = GradientWorker.grpoGradients(model, part, cfg, normaliser, micro, 1f);
        long b = System.nanoTime();
        StepReport report = updater.apply(r.gradient());
        long c = System.nanoTime();
        grad[s] += (b - a) / 1e9;
        opt[s] += (c - b) / 1e9;
        responseTokens[s] += r.tokens();
        if (report.skipped()) {
          throw new IllegalStateException("benchmark step skipped: " + report);
        }
        for (int from = 0; from < part.size(); from += micro) {
          List<TrainingExample> mbPart = part.subList(from, Math.min(part.size(), from + micro));
          List<PolicyInput> p = new ArrayList<>();
          int[][] resp = new int[mbPart.size()][];
          for (int i = 0; i < mbPart.size(); i++) {
            p.add(mbPart.get(i).prompt());
            resp[i] = mbPart.get(i).response();
          }
          TinyVlmBatch packed = model.pack(p, resp);
          flops[s] += trainingFlops(TrainFixtures.SPEC, packed);
          tokens[s] += (double) packed.batchSize() * packed.sequenceLength();
        }
      }
      gen[s] = (t1 - t0) / 1e9;
      ref[s] = (t2 - t1) / 1e9;
      reward[s] = (t3 - t2) / 1e9;
    }
    // The benchmark's updates must not leak into the next section's starting point.
    model.setFlatParameters(start);
    int from = steps > 2 ? 1 : 0;
    double[][] phases = {gen, ref, reward, grad, opt};
    double[] whole = new double[steps];
    for (int s = 0; s < steps; s++) {
      whole[s] = gen[s] + ref[s] + reward[s] + grad[s] + opt[s];
    }
    double flopsM = median(Arrays.copyOfRange(flops, from, steps));
    double respM = median(Arrays.copyOfRange(responseTokens, from, steps));
    double posM = median(Arrays.copyOfRange(tokens, from, steps));
    out("## GRPO step: 32 prompts x 8 responses (maxNewTokens 32, T=1), 2 mini-batches of 128, micro-batch %d", micro);
    out("%d steps%s; response tokens per step %.0f (%.1f per response), packed positions %.0f",
        steps - from, from == 1 ? " (first excluded)" : "", respM, respM / (prompts * n), posM);
    out("  %-38s %10s %10s", "phase", "median ms", "best ms");
    String[] names = {
      "generation (256 responses, KV cache)", "reference scoring", "rewards + advantages",
      "update: gradients (2 x 128 seqs)", "update: clip + AdamW + write-back"
    };
    for (int p = 0; p < names.length; p++) {
      double[] v = Arrays.copyOfRange(phases[p], from, steps);
      out("  %-38s %10.1f %10.1f", names[p], median(v) * 1e3, min(v) * 1e3);
    }
    double[] wholeV = Arrays.copyOfRange(whole, from, steps);
    out("  %-38s %10.1f %10.1f", "whole step", median(wholeV) * 1e3, min(wholeV) * 1e3);
    double[] updates = new double[steps - from];
    for (int s = from; s < steps; s++) {
      updates[s - from] = grad[s] + opt[s];
    }
    double gradM = median(Arrays.copyOfRange(grad, from, steps));
    double gradB = min(Arrays.copyOfRange(grad, from, steps));
    out("  %-38s %10.1f %10.1f", "update (gradients + optimizer)", median(updates) * 1e3, min(updates) * 1e3);
    out("  update FLOPs %.2f GFLOP; gradients at %.2f GFLOP/s median (%.0f%% of peak), %.2f best (%.0f%%)",
        flopsM / 1e9, flopsM / gradM / 1e9, 100 * flopsM / gradM / peak, flopsM / gradB / 1e9,
        100 * flopsM / gradB / peak);
    out("");
  }

  /**
   * Executed FLOPs of one training forward + backward on a packed micro-batch, padding included
   * (the model computes it): backward ~ 2 x forward, so 3 x forward with
   * forward = B·L·layers·(2·3d² + 2·d² + 2·2·d·f)  [qkv, attention output, FFN in+out]
   *         + B·layers·4·L²·d                      [QKᵀ and attention·V over the full L x L]
   *         + B·T·2·d·V                            [LM head on the response positions only]
   *         + images·P·2·patchDim·d                [patch projection].
   * Element-wise ops (layer norms, softmax, GELU, the loss) are not counted.
   */
  static double trainingFlops(ModelSpec s, TinyVlmBatch b) {
    double d = s.dModel();
    double f = s.ffnDim();
    double bsz = b.batchSize();
    double len = b.sequenceLength();
    double perPosition = s.layers() * (2 * 3 * d * d + 2 * d * d + 2 * 2 * d * f);
    double attention = bsz * s.layers() * 4 * len * len * d;
    double head = bsz * b.responseLength() * 2 * d * s.vocabSize();
    double patches = (double) b.imageCount() * s.patchesPerImage() * 2 * s.patchDim() * d;
    return 3 * (bsz * len * perPosition + attention + head + patches);
  }

  // ---------------------------------------------------------------- memory

  private void memory() throws IOException {
    int iterations = quick ? 100 : 1000;
    int every = iterations / 10;
    out("## Resident memory over %d generate+update iterations", iterations);
    out("each: 4 prompts x 4 responses (maxNewTokens 32, T=1) generated, reference-scored,");
    out("rewarded, then one GRPO update (LocalTrainer, micro-batch 8, AdamW 3e-4, KL 0.01)");
    ModelSpec spec = TrainFixtures.SPEC;
    SyntheticBenchmark bench = TrainFixtures.benchmark(1);
    List<SynthItem> items = TrainFixtures.items(bench, Split.TRAIN, 0, 64);
    List<PolicyInput> prompts = TrainFixtures.prompts(items, spec);
    List<Sample> samples = TrainFixtures.samples(items);
    List<SftExample> sft = TrainFixtures.sftExamples(TrainFixtures.items(bench, Split.SFT, 0, 64 * 30), spec);
    try (TinyVlm model = TrainFixtures.model(3);
        TinyVlm reference = TrainFixtures.model(3)) {
      LocalTrainer warm =
          LocalTrainer.create(model, new AdamW(0.0), LrSchedule.constant(2e-3), 1.0, 64);
      for (int s = 0; s < (quick ? 6 : 30); s++) {
        warm.sftStep(sft.subList(s * 64, (s + 1) * 64));
      }
      reference.setFlatParameters(model.flatParameters());
      LocalTrainer trainer =
          LocalTrainer.create(
              model, new AdamW(0.9, 0.999, 1e-8, 0.01), LrSchedule.constant(3e-4), 1.0, 8);
      out("%6s %10s %10s %12s %14s %10s", "iter", "RSS MiB", "heap MiB", "model arrays",
          "mean resp len", "s/iter");
      long window = System.nanoTime();
      long windowTokens = 0;
      long windowSeqs = 0;
      long first = -1;
      long last = 0;
      for (int it = 0; it <= iterations; it++) {
        if (it % every == 0) {
          long rss = rssKb();
          Runtime rt = Runtime.getRuntime();
          double perIter = it == 0 ? 0 : (System.nanoTime() - window) / 1e9 / every;
          out("%6d %10.1f %10.1f %12d %14.1f %10.3f", it, rss / 1024.0,
              (rt.totalMemory() - rt.freeMemory()) / 1048576.0, model.manager().getManagedArrays().size(),
              windowSeqs == 0 ? 0.0 : (double) windowTokens / windowSeqs, perIter);
          if (it == every) {
            first = rss;
          }
          last = rss;
          window = System.nanoTime();
          windowTokens = 0;
          windowSeqs = 0;
        }
        if (it == iterations) {
          break;
        }
        int p0 = (it * 4) % prompts.size();
        List<TrainingExample> examples =
            TrainFixtures.rollout(
                model, reference, prompts.subList(p0, p0 + 4), samples.subList(p0, p0 + 4), 4, 32,
                1f, it);
        for (TrainingExample e : examples) {
          windowTokens += e.tokenCount();
          windowSeqs++;
        }
        trainer.grpoStep(examples, GrpoLossConfig.defaults(), 1f);
      }
      out("RSS change from iteration %d to %d: %+.1f MiB", every, iterations, (last - first) / 1024.0);
    }
    out("");
  }

  static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS line in /proc/self/status");
  }

  static double max(double[] values) {
    return Arrays.stream(values).max().orElse(Double.NaN);
  }

  static double min(double[] values) {
    return Arrays.stream(values).min().orElse(Double.NaN);
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static void out(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
  }
}
