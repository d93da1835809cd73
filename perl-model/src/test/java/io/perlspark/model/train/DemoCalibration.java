package io.perlspark.model.train;

import io.perlspark.model.family.builtin.BuiltinPromptProcessor;
import io.perlspark.model.family.builtin.TinyVlmBatch;
import ai.djl.ndarray.NDManager;
import io.perlspark.common.data.Sample;
import io.perlspark.common.permute.DecaySchedule;
import io.perlspark.common.permute.PermutedSample;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.reward.RewardResult;
import io.perlspark.common.rl.GroupAdvantages;
import io.perlspark.common.synth.ShapeSpec;
import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.family.builtin.ModelSpec;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.family.builtin.TinyVlm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The demo's warm start and PeRL RL in one JVM (not a unit test): SFT on the position-biased SFT
 * split, greedy eval on the balanced eval split with per-position accuracy and trace diagnostics,
 * then GRPO + permutation (k=1, one group = original + copy, n each). Run with {@code
 * bench/run-calibration.sh key=value ...}; see {@link #main} for the keys.
 */
public final class DemoCalibration {
  private final Map<String, String> args;
  private final ModelSpec spec;
  private final SyntheticBenchmark bench;
  /**
   * Response format: default (the benchmark's reference response: "img1 red circle no ..." with
   * per-image verdicts), verdict (the same, built here), legacy (no verdicts: "img1 red circle"),
   * img1tok (legacy with "imgone" as one token), noimg (legacy without "img": "1 red circle").
   */
  private final String fmt;
  private final io.perlspark.model.tokenizer.WordTokenizer tok;
  private static final String[] NUMBER_WORDS = {"imgone", "imgtwo", "imgthree", "imgfour"};

  private DemoCalibration(Map<String, String> args) {
    this.args = args;
    this.fmt = args.getOrDefault("fmt", "default");
    List<String> words = new ArrayList<>(SynthExamples.wordTokenizerVocabulary());
    if (fmt.equals("img1tok")) {
      words.addAll(List.of(NUMBER_WORDS));
    }
    this.tok = io.perlspark.model.tokenizer.WordTokenizer.of(words);
    this.spec =
        new ModelSpec(
            tok.vocabSize(), 24, 8, 3, 64, 2, 4, 4, integer("maxSeqLen", 128),
            false);
    SynthOptions opts =
        SynthOptions.defaults().toBuilder().setTrainPositionBias(dbl("bias", 0.8)).build();
    this.bench = new SyntheticBenchmark(opts, lng("dataSeed", 1234));
  }

  /**
   * Keys: fmt (default, see {@link #fmt}), sftSchedule (cosine|constant), sftSteps (600), sftBatch (64), sftLr (2e-3), warmup (50), minRatio (0.1), wd (0.01),
   * sftRows (5000), evalEvery (0 = end only), seed (model init, 1), rlSteps (0), rlSeeds (1 = seeds
   * seed..), rlLr (3e-4), perm (true), permSchedule (linear|constant), rlEvalEvery (50), checks
   * (false: decode + overfit check), evalRows (900).
   */
  public static void main(String[] argv) {
    Map<String, String> a = new HashMap<>();
    for (String s : argv) {
      int eq = s.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("arguments are key=value, got " + s);
      }
      a.put(s.substring(0, eq), s.substring(eq + 1));
    }
    new DemoCalibration(a).run();
  }

  private void run() {
    out("spec %s (%d params), args %s", spec, spec.parameterCount(), args);
    if (bool("checks", false)) {
      checks();
    }
    List<SftExample> sft = new ArrayList<>();
    int rows = integer("sftRows", 5000);
    for (int i = 0; i < rows; i++) {
      sft.add(sftExample(bench.generate(Split.SFT, i)));
    }
    List<SynthItem> eval = TrainFixtures.items(bench, Split.EVAL, 0, integer("evalRows", 900));
    List<PolicyInput> evalPrompts = prompts(eval);
    long seed = lng("seed", 1);
    try (TinyVlm model = model(seed)) {
      sft(model, sft, eval, evalPrompts, seed);
      float[] warm = model.flatParameters();
      int rlSteps = integer("rlSteps", 0);
      int rlSeeds = integer("rlSeeds", 1);
      for (int r = 0; r < rlSeeds && rlSteps > 0; r++) {
        model.setFlatParameters(warm);
        rl(model, warm, eval, evalPrompts, seed + r, rlSteps);
      }
    }
  }

  private TinyVlm model(long seed) {
    return TinyVlm.builder().setSpec(spec).setTokenizer(tok).optSeed(seed).build();
  }

  private List<PolicyInput> prompts(List<SynthItem> items) {
    List<PolicyInput> out = new ArrayList<>();
    for (SynthItem it : items) {
      out.add(SynthExamples.prompt(it.sample(), new BuiltinPromptProcessor(tok, spec)));
    }
    return out;
  }

  /** The reference response in this run's format. */
  private String response(SynthItem item) {
    if (fmt.equals("verdict")) {
      // Each image's description followed by whether it matches the question's target.
      ShapeSpec target = item.shapes().get(item.answerPosition() - 1);
      StringBuilder sb = new StringBuilder("<think>");
      for (int i = 0; i < item.shapes().size(); i++) {
        ShapeSpec sp = item.shapes().get(i);
        boolean match = sp.colour() == target.colour() && sp.shape() == target.shape();
        sb.append(" img").append(i + 1).append(' ').append(sp.describe()).append(match ? " yes" : " no");
      }
      return sb.append(" </think> \\boxed{").append(item.sample().answer()).append('}').toString();
    }
    String r =
        fmt.equals("default")
            ? item.referenceResponse()
            : SyntheticBenchmark.referenceResponse(item.shapes(), item.sample().answer());
    for (int i = 1; i <= 9; i++) {
      String to = switch (fmt) {
        case "img1tok" -> NUMBER_WORDS[i - 1 < 4 ? i - 1 : 0];
        case "noimg" -> Integer.toString(i);
        default -> "img" + i;
      };
      if (i <= 4 || !fmt.equals("img1tok")) {
        r = r.replace("img" + i + " ", to + " ");
      }
    }
    return r;
  }

  private SftExample sftExample(SynthItem item) {
    return new SftExample(
        SynthExamples.prompt(item.sample(), new BuiltinPromptProcessor(tok, spec)), SynthExamples.responseWithEos(response(item), tok));
  }

  // ------------------------------------------------------------------ checks

  @SuppressWarnings("try")
  private void checks() {
    SynthItem item = bench.generate(Split.SFT, 0);
    SftExample e = sftExample(item);
    out("prompt text: %s", item.sample().prompt());
    out("prompt ids:  %s -> %s", Arrays.toString(e.prompt().promptTokens()),
        tok.decode(e.prompt().promptTokens()));
    out("reference:   %s", response(item));
    out("response ids %s -> %s", Arrays.toString(e.response()),
        tok.decode(e.response()));
    try (TinyVlm m = model(1);
        NDManager nd = NDManager.newBaseManager()) {
      TinyVlmBatch b = m.pack(List.of(e.prompt()), new int[][] {e.response()});
      long[] t = b.targets(nd).toLongArray();
      float[] mask = b.responseMask(nd).toFloatArray();
      int[] tt = new int[t.length];
      for (int i = 0; i < t.length; i++) {
        tt[i] = (int) t[i];
      }
      out("packed: promptLength %s, responseLength %s, targets %s, mask %s",
          Arrays.toString(b.promptLengths()), b.responseLength(),
          tok.decode(tt), Arrays.toString(mask));
    }
    // Overfit 16 examples: greedy decoding must reproduce the targets exactly.
    List<SynthItem> tiny = TrainFixtures.items(bench, Split.SFT, 0, 16);
    List<SftExample> ex = new ArrayList<>();
    for (SynthItem it : tiny) {
      ex.add(sftExample(it));
    }
    try (TinyVlm m = model(2)) {
      LocalTrainer t =
          LocalTrainer.create(m, new AdamW(0.9, 0.999, 1e-8, 0.0), LrSchedule.constant(3e-3), 1.0, 16);
      for (int s = 0; s < 300; s++) {
        LocalTrainer.Step st = t.sftStep(ex);
        if (s % 50 == 0 || s == 299) {
          out("overfit step %d loss %.4f", s, st.gradients().loss());
        }
      }
      GenerationResult g = greedy(m, prompts(tiny));
      int exact = 0;
      for (int i = 0; i < tiny.size(); i++) {
        if (Arrays.equals(g.tokens()[i], ex.get(i).response())) {
          exact++;
        }
      }
      out("overfit: %d/16 greedy responses equal the targets", exact);
    }
  }

  // ------------------------------------------------------------------ SFT

  private void sft(
      TinyVlm model, List<SftExample> sft, List<SynthItem> eval, List<PolicyInput> evalPrompts,
      long seed) {
    int steps = integer("sftSteps", 600);
    int batch = integer("sftBatch", 64);
    double lr = dbl("sftLr", 2e-3);
    int warmup = integer("warmup", 50);
    double minRatio = dbl("minRatio", 0.1);
    int evalEvery = integer("evalEvery", 0);
    LocalTrainer t =
        LocalTrainer.create(
            model, new AdamW(0.9, 0.999, 1e-8, dbl("wd", 0.01)),
            args.getOrDefault("sftSchedule", "cosine").equals("constant")
                ? LrSchedule.constant(lr, warmup)
                : LrSchedule.warmupCosine(lr, warmup, steps, minRatio),
            1.0, batch);
    SplittableRandom rng = new SplittableRandom(seed * 7919 + 17);
    int[] order = shuffled(sft.size(), rng);
    int at = 0;
    long t0 = System.nanoTime();
    double lossSum = 0;
    int lossN = 0;
    double trainTime = 0;
    for (int s = 0; s < steps; s++) {
      List<SftExample> b = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        if (at == order.length) {
          order = shuffled(sft.size(), rng);
          at = 0;
        }
        b.add(sft.get(order[at++]));
      }
      long a = System.nanoTime();
      LocalTrainer.Step st = t.sftStep(b);
      trainTime += (System.nanoTime() - a) / 1e9;
      lossSum += st.gradients().loss();
      lossN++;
      if ((evalEvery > 0 && (s + 1) % evalEvery == 0) || s + 1 == steps) {
        out("sft step %d loss %.4f (mean of last %d) train %.1fs", s + 1, lossSum / lossN, lossN,
            trainTime);
        lossSum = 0;
        lossN = 0;
        evaluate("sft@" + (s + 1), model, eval, evalPrompts);
      }
    }
    out("sft total %.1fs (training %.1fs, %.3fs/step)", (System.nanoTime() - t0) / 1e9, trainTime,
        trainTime / steps);
  }

  private static int[] shuffled(int n, SplittableRandom rng) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int x = a[i];
      a[i] = a[j];
      a[j] = x;
    }
    return a;
  }

  // ------------------------------------------------------------------ eval

  private GenerationResult greedy(TinyVlm model, List<PolicyInput> prompts) {
    long[] seeds = new long[prompts.size()];
    return model.generate(
        prompts,
        GenerationOptions.builder().optTemperature(0f).optMaxNewTokens(32).setSeeds(seeds).build());
  }

  /** Greedy eval with per-position accuracy and trace diagnostics; returns accuracy. */
  private double evaluate(String label, TinyVlm model, List<SynthItem> eval, List<PolicyInput> prompts) {
    long t0 = System.nanoTime();
    int[] correctAt = new int[10];
    int[] countAt = new int[10];
    int correct = 0;
    int answerOne = 0;
    int formatOk = 0;
    int colourRight = 0;
    int shapeRight = 0;
    int imagesSeen = 0;
    int traceAllRight = 0;
    int correctGivenTrace = 0;
    int agreesWithTrace = 0;
    int traceDetermined = 0;
    for (int from = 0; from < prompts.size(); from += 150) {
      int to = Math.min(prompts.size(), from + 150);
      GenerationResult g = greedy(model, prompts.subList(from, to));
      for (int i = from; i < to; i++) {
        SynthItem item = eval.get(i);
        String text = tok.decode(g.withoutEos(i - from));
        RewardResult r = TrainFixtures.REWARD.score(text, item.sample());
        int pos = item.answerPosition();
        countAt[pos]++;
        boolean ok = r.accuracy() > 0.5;
        if (ok) {
          correct++;
          correctAt[pos]++;
        }
        if (r.format() > 0.5) {
          formatOk++;
        }
        String ans = r.extractedAnswer() == null ? "" : r.extractedAnswer().trim();
        if (ans.equals("1")) {
          answerOne++;
        }
        // Trace: "<think> img 1 red circle img 2 ... </think>"
        String[] w = text.split(" ");
        Map<Integer, String[]> trace = new HashMap<>();
        for (int k = 0; k + 3 < w.length; k++) {
          if (w[k].equals("img") && w[k + 1].matches("\\d")) {
            trace.putIfAbsent(Integer.parseInt(w[k + 1]), new String[] {w[k + 2], w[k + 3]});
          }
        }
        for (int k = 0; k + 2 < w.length; k++) {
          int idx = Arrays.asList(NUMBER_WORDS).indexOf(w[k]) + 1;
          if (fmt.equals("noimg") && w[k].matches("\\d") && (k == 0 || !w[k - 1].equals("\\boxed{"))) {
            idx = Integer.parseInt(w[k]);
          }
          if (idx > 0 && !fmt.equals("default")) {
            trace.putIfAbsent(idx, new String[] {w[k + 1], w[k + 2]});
          }
        }
        boolean all = true;
        for (int s = 0; s < item.shapes().size(); s++) {
          ShapeSpec sp = item.shapes().get(s);
          String[] tr = trace.get(s + 1);
          imagesSeen++;
          boolean c = tr != null && tr[0].equals(sp.colour().wireName());
          boolean sh = tr != null && tr[1].equals(sp.shape().wireName());
          colourRight += c ? 1 : 0;
          shapeRight += sh ? 1 : 0;
          all &= c && sh;
        }
        if (all) {
          traceAllRight++;
          correctGivenTrace += ok ? 1 : 0;
        }
        // The answer the model's own trace implies (target colour+shape named exactly once).
        ShapeSpec target = item.shapes().get(pos - 1);
        int implied = -1;
        int matches = 0;
        for (Map.Entry<Integer, String[]> en : trace.entrySet()) {
          if (en.getValue()[0].equals(target.colour().wireName())
              && en.getValue()[1].equals(target.shape().wireName())) {
            implied = en.getKey();
            matches++;
          }
        }
        if (matches == 1) {
          traceDetermined++;
          if (ans.equals(Integer.toString(implied))) {
            agreesWithTrace++;
          }
        }
      }
    }
    int n = prompts.size();
    StringBuilder per = new StringBuilder();
    for (int p = 1; p <= 4; p++) {
      per.append(String.format(Locale.ROOT, "%s%.2f", p == 1 ? "" : "/",
          countAt[p] == 0 ? Double.NaN : (double) correctAt[p] / countAt[p]));
    }
    out("EVAL %s: acc %.3f pos %s ans1 %.3f format %.3f | trace colour %.3f shape %.3f all %.3f"
            + " | acc|trace %.3f agree(trace-determined %d) %.3f | %.1fs",
        label, (double) correct / n, per, (double) answerOne / n, (double) formatOk / n,
        (double) colourRight / imagesSeen, (double) shapeRight / imagesSeen,
        (double) traceAllRight / n, traceAllRight == 0 ? 0 : (double) correctGivenTrace / traceAllRight,
        traceDetermined, traceDetermined == 0 ? 0 : (double) agreesWithTrace / traceDetermined,
        (System.nanoTime() - t0) / 1e9);
    return (double) correct / n;
  }

  // ------------------------------------------------------------------ RL

  private void rl(
      TinyVlm model, float[] warm, List<SynthItem> eval, List<PolicyInput> evalPrompts, long seed,
      int steps) {
    boolean perm = bool("perm", true);
    int prompts = integer("rlPrompts", 32);
    int n = integer("n", 8);
    int miniBatches = integer("miniBatches", 2);
    int evalEvery = integer("rlEvalEvery", 50);
    DecaySchedule schedule =
        args.getOrDefault("permSchedule", "linear").equals("constant")
            ? DecaySchedule.constant(1.0)
            : DecaySchedule.linear(1.0, 0.0);
    Permuter permuter =
        Permuter.builder().setSeed(seed).optCopies(perm ? 1 : 0).optSchedule(schedule).build();
    GrpoLossConfig cfg = GrpoLossConfig.defaults();
    try (TinyVlm reference = model(seed)) {
      reference.setFlatParameters(warm);
      LocalTrainer trainer =
          LocalTrainer.create(
              model, new AdamW(0.9, 0.999, 1e-8, dbl("rlWd", 0.01)),
              LrSchedule.constant(dbl("rlLr", 3e-4)), 1.0, 16);
      out("RL seed %d perm %s schedule %s", seed, perm, schedule);
      double start = evaluate("rl[seed " + seed + "]@0", model, eval, evalPrompts);
      long t0 = System.nanoTime();
      double rewardSum = 0;
      int rewardN = 0;
      int zeroVar = 0;
      int groups = 0;
      SplittableRandom pick = new SplittableRandom(seed * 31 + 5);
      for (int step = 0; step < steps; step++) {
        List<PolicyInput> expanded = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        List<Integer> groupStart = new ArrayList<>();
        for (int p = 0; p < prompts; p++) {
          SynthItem item = bench.generate(Split.TRAIN, pick.nextInt(100_000));
          groupStart.add(expanded.size());
          for (PermutedSample ps : permuter.expand(item.sample(), step, steps)) {
            PolicyInput in = SynthExamples.prompt(ps.sample(), new BuiltinPromptProcessor(tok, spec));
            for (int k = 0; k < n; k++) {
              expanded.add(in);
              samples.add(ps.sample());
            }
          }
        }
        groupStart.add(expanded.size());
        long[] seeds = new long[expanded.size()];
        for (int i = 0; i < seeds.length; i++) {
          seeds[i] = seed * 1_000_003L + step * 100_003L + i;
        }
        GenerationResult g =
            model.generate(
                expanded,
                GenerationOptions.builder().optTemperature(1f).optMaxNewTokens(32).setSeeds(seeds)
                    .build());
        float[][] ref = reference.score(expanded, g.tokens(), 1f, false).logProbs();
        List<List<TrainingExample>> byGroup = new ArrayList<>();
        for (int gi = 0; gi + 1 < groupStart.size(); gi++) {
          int a = groupStart.get(gi);
          int b = groupStart.get(gi + 1);
          double[] rewards = new double[b - a];
          for (int i = a; i < b; i++) {
            String text = tok.decode(g.withoutEos(i));
            rewards[i - a] = TrainFixtures.REWARD.score(text, samples.get(i)).total();
            rewardSum += rewards[i - a];
            rewardN++;
          }
          double[] adv = GroupAdvantages.compute(rewards, true);
          boolean allSame = true;
          for (double x : rewards) {
            allSame &= x == rewards[0];
          }
          zeroVar += allSame ? 1 : 0;
          groups++;
          List<TrainingExample> ex = new ArrayList<>();
          for (int i = a; i < b; i++) {
            ex.add(new TrainingExample(expanded.get(i), g.tokens()[i], g.logProbs()[i], ref[i],
                adv[i - a]));
          }
          byGroup.add(ex);
        }
        int per = (byGroup.size() + miniBatches - 1) / miniBatches;
        for (int mb = 0; mb < miniBatches; mb++) {
          List<TrainingExample> part = new ArrayList<>();
          for (int gi = mb * per; gi < Math.min(byGroup.size(), (mb + 1) * per); gi++) {
            part.addAll(byGroup.get(gi));
          }
          if (!part.isEmpty()) {
            trainer.grpoStep(part, cfg, 1f);
          }
        }
        if ((step + 1) % 10 == 0) {
          out("rl step %d reward %.3f zero-var groups %.2f elapsed %.1fs", step + 1,
              rewardSum / rewardN, (double) zeroVar / groups, (System.nanoTime() - t0) / 1e9);
          rewardSum = 0;
          rewardN = 0;
          zeroVar = 0;
          groups = 0;
        }
        if ((step + 1) % evalEvery == 0 || step + 1 == steps) {
          double acc = evaluate("rl[seed " + seed + "]@" + (step + 1), model, eval, evalPrompts);
          if (step + 1 == steps) {
            out("RL RESULT seed %d perm %s: %.3f -> %.3f (%+.3f) in %.1fs", seed, perm, start, acc,
                acc - start, (System.nanoTime() - t0) / 1e9);
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ args

  private int integer(String k, int d) {
    return args.containsKey(k) ? Integer.parseInt(args.get(k)) : d;
  }

  private long lng(String k, long d) {
    return args.containsKey(k) ? Long.parseLong(args.get(k)) : d;
  }

  private double dbl(String k, double d) {
    return args.containsKey(k) ? Double.parseDouble(args.get(k)) : d;
  }

  private boolean bool(String k, boolean d) {
    return args.containsKey(k) ? Boolean.parseBoolean(args.get(k)) : d;
  }

  private static void out(String format, Object... a) {
    System.out.println(String.format(Locale.ROOT, format, a));
    System.out.flush();
  }
}
