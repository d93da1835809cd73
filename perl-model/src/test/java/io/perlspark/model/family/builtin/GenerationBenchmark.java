package io.perlspark.model.family.builtin;

import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures generation throughput of a {@link TinyVlm}, with and without the KV cache.
 *
 * <p>Test sources only (not part of the application). Run: {@code java -cp <perl-model test classpath> io.perlspark.model.family.builtin.GenerationBenchmark
 * [batch=8] [newTokens=64] [repeats=5]}; prints tokens/s for both paths. Every response is exactly
 * {@code newTokens} long (eos ignored), so the two paths do the same work.
 */
public final class GenerationBenchmark {
  private GenerationBenchmark() {}

  /** Throughput of one path. */
  public record Result(boolean cached, int batch, int newTokens, int repeats, double seconds) {
    public double tokensPerSecond() {
      return (double) batch * newTokens * repeats / seconds;
    }
  }

  /**
   * Generates {@code repeats} times (after one warm-up call) and times it.
   *
   * @param prompts the batch; each gets {@code newTokens} tokens
   */
  public static Result measure(
      TinyVlm model, List<PolicyInput> prompts, int newTokens, int repeats, boolean cached) {
    GenerationOptions options =
        GenerationOptions.builder()
            .optTemperature(1f)
            .optMaxNewTokens(newTokens)
            .optIgnoreEos(true)
            .setSeeds(new long[prompts.size()])
            .build();
    generate(model, prompts, options, cached);
    long start = System.nanoTime();
    for (int r = 0; r < repeats; r++) {
      long[] seeds = new long[prompts.size()];
      for (int i = 0; i < seeds.length; i++) {
        seeds[i] = 1_000L * r + i;
      }
      GenerationResult result = generate(model, prompts, options.withSeeds(seeds), cached);
      for (int[] t : result.tokens()) {
        if (t.length != newTokens) {
          throw new IllegalStateException(
              "a response has " + t.length + " tokens, expected " + newTokens
                  + " (prompt too long for maxSeqLen?)");
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(cached, prompts.size(), newTokens, repeats, seconds);
  }

  private static GenerationResult generate(
      TinyVlm model, List<PolicyInput> prompts, GenerationOptions options, boolean cached) {
    return cached ? model.generate(prompts, options) : model.generateNoCache(prompts, options);
  }

  /**
   * Prompts like the synthetic benchmark's: 1..3 images each, random pixels, a short question.
   */
  public static List<PolicyInput> syntheticPrompts(
      WordTokenizer tokenizer, ModelSpec spec, int count, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<PolicyInput> prompts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int images = 1 + i % 3;
      StringBuilder text = new StringBuilder();
      List<float[]> pixels = new ArrayList<>();
      for (int k = 0; k < images; k++) {
        text.append("<image> ");
        float[] p = new float[spec.pixelsPerImage()];
        for (int j = 0; j < p.length; j++) {
          p[j] = (float) rng.nextDouble();
        }
        pixels.add(p);
      }
      text.append("which image shows a red circle ?");
      prompts.add(PolicyInput.of(tokenizer, text.toString(), pixels));
    }
    return prompts;
  }

  public static void main(String[] args) {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int newTokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    WordTokenizer tokenizer =
        WordTokenizer.of(
            List.of("which", "image", "shows", "a", "red", "circle", "?", "1", "2", "3", "4",
                "<think>", "</think>", "\\boxed{", "}", "img", "blue", "square"));
    // Room for 3 images (27 positions), the question and the new tokens.
    ModelSpec spec =
        ModelSpec.calibration(tokenizer.vocabSize()).withMaxSeqLen(Math.max(80, 40 + newTokens));
    try (TinyVlm model =
        TinyVlm.builder().setSpec(spec).setTokenizer(tokenizer).optSeed(1).build()) {
      List<PolicyInput> prompts = syntheticPrompts(tokenizer, spec, batch, 7);
      for (boolean cached : new boolean[] {true, false}) {
        Result r = measure(model, prompts, newTokens, repeats, cached);
        System.out.printf(
            Locale.ROOT,
            "%-9s batch=%d newTokens=%d repeats=%d: %.3f s, %.0f tokens/s%n",
            cached ? "kv-cache" : "no-cache", batch, newTokens, repeats, r.seconds(),
            r.tokensPerSecond());
      }
    }
  }
}
