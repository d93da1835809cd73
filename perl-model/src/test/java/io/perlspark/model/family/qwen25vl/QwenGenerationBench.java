package io.perlspark.model.family.qwen25vl;

import ai.djl.Device;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Generation throughput of {@link Qwen25VlModel#generate} on the tiny fixture checkpoint
 * ({@code tiny-tied}: 2 layers, hidden 32, the real 151,936-token vocabulary), text-only prompts,
 * eos ignored so every sequence gets exactly the asked number of tokens. Not a unit test: run it
 * with {@code bench/qwen-generation.sh}. Prints one line per setting (median and best of the
 * timed rounds, after one warm-up round).
 *
 * <p>Arguments: {@code [sequences [newTokens [rounds]]]}, default 16 64 3.
 */
public final class QwenGenerationBench {
  private QwenGenerationBench() {}

  public static void main(String[] args) throws Exception {
    int sequences = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int newTokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    try (QwenFixtures fx = QwenFixtures.open();
        Qwen25VlModel model = Qwen25VlModel.load(fx.checkpoint("tiny-tied"), Device.cpu())) {
      List<Qwen25VlPrompt> prompts = new ArrayList<>();
      SplittableRandom rng = new SplittableRandom(1);
      for (int b = 0; b < sequences; b++) {
        int[] ids = new int[16 + b % 8];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = rng.nextInt(150_000);
        }
        prompts.add(Qwen25VlPrompt.text(ids));
      }
      long[] seeds = new long[sequences];
      for (int b = 0; b < sequences; b++) {
        seeds[b] = 1000 + b;
      }
      System.out.printf(Locale.ROOT, "# Qwen2.5-VL tiny-tied generate(): %d sequences x %d new"
          + " tokens, vocab %d, device %s, libtorch threads %s%n", sequences, newTokens,
          model.config().vocabSize(), model.device(),
          System.getProperty("ai.djl.pytorch.num_threads", "default"));
      run(model, prompts, "greedy", GenerationOptions.builder().optTemperature(0f)
          .optMaxNewTokens(newTokens).optIgnoreEos(true).setSeeds(seeds).build(), rounds);
      run(model, prompts, "T=1 top-p=1", GenerationOptions.builder().optTemperature(1f)
          .optMaxNewTokens(newTokens).optIgnoreEos(true).setSeeds(seeds).build(), rounds);
      run(model, prompts, "T=1 top-p=0.9", GenerationOptions.builder().optTemperature(1f)
          .optTopP(0.9f).optMaxNewTokens(newTokens).optIgnoreEos(true).setSeeds(seeds).build(),
          rounds);
    }
  }

  private static void run(Qwen25VlModel model, List<Qwen25VlPrompt> prompts, String name,
      GenerationOptions options, int rounds) {
    model.generate(prompts, options); // warm-up
    double[] tokensPerSecond = new double[rounds];
    double[] tokensPerCpuSecond = new double[rounds];
    int checksum = 0;
    for (int r = 0; r < rounds; r++) {
      long start = System.nanoTime();
      long cpuStart = CPU.getProcessCpuTime();
      GenerationResult out = model.generate(prompts, options);
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpuSeconds = (CPU.getProcessCpuTime() - cpuStart) / 1e9;
      long tokens = Arrays.stream(out.tokens()).mapToLong(t -> t.length).sum();
      tokensPerSecond[r] = tokens / seconds;
      tokensPerCpuSecond[r] = tokens / cpuSeconds;
      checksum = Arrays.deepHashCode(out.tokens());
    }
    // The machine is shared: tokens per CPU-second (the whole JVM's) is the steadier figure.
    System.out.printf(Locale.ROOT, "%-14s tokens/s median %.0f best %.0f; tokens per CPU-second"
        + " median %.0f best %.0f (tokens hash %08x)%n", name, median(tokensPerSecond),
        best(tokensPerSecond), median(tokensPerCpuSecond), best(tokensPerCpuSecond), checksum);
  }

  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double best(double[] v) {
    return Arrays.stream(v).max().orElse(Double.NaN);
  }
}
