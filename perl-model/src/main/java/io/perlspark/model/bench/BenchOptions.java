package io.perlspark.model.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Options of {@link QwenGpuBench}. Defaults are the shapes: 64 prompts x 2 images of
 * 448x448 (256 merged tokens each) + 70 text tokens, 256 forced new tokens, an 8-sequence LoRA
 * update.
 */
record BenchOptions(
    String config,
    String device,
    String dtype,
    int prompts,
    int imagesPerPrompt,
    int imageSize,
    int textTokens,
    int newTokens,
    int generationBatch,
    int scoringBatch,
    int updateSequences,
    int updateMicroBatch,
    int loraRank,
    double loraAlpha,
    int distinctImages,
    long seed,
    Set<String> phases,
    String parityCheckpoint,
    int parityPrompts,
    int parityNewTokens,
    double parityTolerance,
    double budgetSeconds,
    String out) {

  static final List<String> ALL_PHASES = List.of("generate", "score", "update", "parity");

  static final String USAGE = String.join("\n",
      "usage: QwenGpuBench [options]   (JSON lines on stdout, and in --out when given)",
      "  --config tiny|3b|DIR      Qwen2.5-VL config: built-in tiny or 3B shape, or a folder with"
          + " config.json (default tiny)",
      "  --device cpu|gpu          where the model runs (default cpu); gpu = gpu(0)",
      "  --dtype float32           base weights and compute: float32 | bfloat16 | float16 (LoRA in float32)",
      "  --prompts N               rollout prompts (64)",
      "  --images N                images per prompt (2)",
      "  --image-size PX           square image side, a multiple of 28 (448 = 256 merged tokens)",
      "  --text-tokens N           text tokens per prompt, vision start/end included (70)",
      "  --new-tokens N            forced new tokens per prompt, eos ignored (256)",
      "  --gen-batch N             prompts per generate call (0 = all at once)",
      "  --score-batch N           sequences per score call (0 = all at once)",
      "  --update-seqs N           sequences in the LoRA GRPO update (8)",
      "  --update-micro-batch N    sequences per forward/backward in the update (0 = all)",
      "  --lora-rank R             LoRA rank (16; alpha = 2R unless --lora-alpha)",
      "  --lora-alpha A",
      "  --distinct-images N       random images in the pool that prompts share (8)",
      "  --seed S                  weights, images, tokens (1)",
      "  --phases LIST             comma list of generate,score,update,parity (all)",
      "  --parity-checkpoint DIR   checkpoint for the CPU-vs-device parity (default: the built-in"
          + " tiny config, random init)",
      "  --parity-prompts N        (4)   --parity-new-tokens N (16)   --parity-tol X (1e-3)",
      "  --budget-s S              skip phases not started within S seconds (0 = no limit)",
      "  --out FILE                also append the JSON lines to FILE");

  /** A user mistake in the options: reported as one line, never a stack trace. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  static BenchOptions parse(String[] args) throws UsageException {
    String config = "tiny";
    String device = "cpu";
    String dtype = "float32";
    int prompts = 64;
    int images = 2;
    int imageSize = 448;
    int textTokens = 70;
    int newTokens = 256;
    int genBatch = 0;
    int scoreBatch = 0;
    int updateSeqs = 8;
    int updateMicro = 0;
    int rank = 16;
    double alpha = -1;
    int distinct = 8;
    long seed = 1;
    Set<String> phases = new LinkedHashSet<>(ALL_PHASES);
    String parity = null;
    int parityPrompts = 4;
    int parityNew = 16;
    double parityTol = 1e-3;
    double budget = 0;
    String out = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        throw new UsageException(USAGE);
      }
      if (!a.startsWith("--")) {
        throw new UsageException("unexpected argument '" + a + "' (options start with --; see --help)");
      }
      if (i + 1 >= args.length) {
        throw new UsageException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--config" -> config = v;
        case "--device" -> device = v.toLowerCase(Locale.ROOT);
        case "--dtype" -> dtype = v.toLowerCase(Locale.ROOT);
        case "--prompts" -> prompts = positive(a, v);
        case "--images" -> images = atLeast(a, v, 0);
        case "--image-size" -> imageSize = positive(a, v);
        case "--text-tokens" -> textTokens = positive(a, v);
        case "--new-tokens" -> newTokens = positive(a, v);
        case "--gen-batch" -> genBatch = atLeast(a, v, 0);
        case "--score-batch" -> scoreBatch = atLeast(a, v, 0);
        case "--update-seqs" -> updateSeqs = positive(a, v);
        case "--update-micro-batch" -> updateMicro = atLeast(a, v, 0);
        case "--lora-rank" -> rank = positive(a, v);
        case "--lora-alpha" -> alpha = number(a, v);
        case "--distinct-images" -> distinct = positive(a, v);
        case "--seed" -> seed = (long) integer(a, v);
        case "--phases" -> phases = phases(v);
        case "--parity-checkpoint" -> parity = v;
        case "--parity-prompts" -> parityPrompts = positive(a, v);
        case "--parity-new-tokens" -> parityNew = positive(a, v);
        case "--parity-tol" -> parityTol = number(a, v);
        case "--budget-s" -> budget = number(a, v);
        case "--out" -> out = v;
        default -> throw new UsageException("unknown option " + a + " (see --help)");
      }
    }
    if (!device.equals("cpu") && !device.equals("gpu")) {
      throw new UsageException("--device must be cpu or gpu, got '" + device + "'");
    }
    if (imageSize % 28 != 0) {
      throw new UsageException("--image-size must be a multiple of 28 (patch 14 x merge 2), got "
          + imageSize);
    }
    if (textTokens < 2 * images + 1) {
      throw new UsageException("--text-tokens " + textTokens + " cannot hold the vision start/end"
          + " tokens of " + images + " images plus one text token; use at least " + (2 * images + 1));
    }
    if (updateSeqs > prompts && phases.contains("update")) {
      throw new UsageException("--update-seqs " + updateSeqs + " exceeds --prompts " + prompts
          + " (the update trains on the generated rollouts)");
    }
    if (!(parityTol > 0)) {
      throw new UsageException("--parity-tol must be > 0, got " + parityTol);
    }
    return new BenchOptions(config, device, dtype, prompts, images, imageSize, textTokens, newTokens,
        genBatch, scoreBatch, updateSeqs, updateMicro, rank, alpha > 0 ? alpha : 2.0 * rank,
        distinct, seed, phases, parity, parityPrompts, parityNew, parityTol, budget, out);
  }

  private static Set<String> phases(String v) throws UsageException {
    Set<String> out = new LinkedHashSet<>();
    List<String> unknown = new ArrayList<>();
    for (String p : v.split(",")) {
      String t = p.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      if (ALL_PHASES.contains(t)) {
        out.add(t);
      } else {
        unknown.add(t);
      }
    }
    if (!unknown.isEmpty() || out.isEmpty()) {
      throw new UsageException("--phases takes a comma list of " + ALL_PHASES + ", got '" + v + "'");
    }
    return out;
  }

  private static double number(String option, String v) throws UsageException {
    try {
      double d = Double.parseDouble(v);
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a number, got '" + v + "'");
    }
  }

  private static long integer(String option, String v) throws UsageException {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs an integer, got '" + v + "'");
    }
  }

  private static int atLeast(String option, String v, int min) throws UsageException {
    long n = integer(option, v);
    if (n < min || n > Integer.MAX_VALUE) {
      throw new UsageException(option + " must be an integer >= " + min + ", got " + v);
    }
    return (int) n;
  }

  private static int positive(String option, String v) throws UsageException {
    return atLeast(option, v, 1);
  }
}
