package io.perlspark.model.family.builtin;

import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Shared test data: a benchmark-like vocabulary, random images, interleaved prompts. */
final class Fixtures {
  static final List<String> WORDS =
      List.of(
          "which", "image", "shows", "a", "red", "green", "blue", "yellow", "circle", "square",
          "triangle", "img", "?", "1", "2", "3", "4", "<think>", "</think>", "\\boxed{", "}",
          "the", "is", "in", "and", "are", "images", "same", "yes", "no", "how", "many", "there",
          "what", "colour");

  static final WordTokenizer TOKENIZER = WordTokenizer.of(WORDS);
  static final ModelSpec SPEC = ModelSpec.calibration(TOKENIZER.vocabSize());

  private Fixtures() {}

  static TinyVlm model(long seed) {
    return TinyVlm.builder().setSpec(SPEC).setTokenizer(TOKENIZER).optSeed(seed).build();
  }

  /**
   * A model whose parameters are scaled up (x3: logits up to about 5) so its next-token
   * distributions are far from uniform and greedy choices have clear margins, like a trained
   * model's. (x8 drives attention into near one-hot saturation where float32 rounding grows.)
   */
  static TinyVlm sharpModel(long seed) {
    TinyVlm model = model(seed);
    float[] values = model.flatParameters();
    for (int i = 0; i < values.length; i++) {
      values[i] *= 3f;
    }
    model.setFlatParameters(values);
    return model;
  }

  static float[] image(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] pixels = new float[SPEC.pixelsPerImage()];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) rng.nextDouble();
    }
    return pixels;
  }

  /** A prompt with {@code images} images, placeholders first, as the synthetic benchmark does. */
  static PolicyInput prompt(int images, long seed) {
    StringBuilder text = new StringBuilder();
    List<float[]> pixels = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      text.append("<image> ");
      pixels.add(image(seed * 31 + i));
    }
    text.append("which image shows a red circle ?");
    return PolicyInput.of(TOKENIZER, text.toString(), pixels);
  }

  /** Prompts with 0..3 images, so sequence lengths differ and left padding is exercised. */
  static List<PolicyInput> mixedPrompts(int count, long seed) {
    List<PolicyInput> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(prompt(i % 4, seed + i));
    }
    return out;
  }

  static long[] seeds(int count, long base) {
    long[] seeds = new long[count];
    for (int i = 0; i < count; i++) {
      seeds[i] = base + 1000L * i;
    }
    return seeds;
  }

  static float maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  static float maxAbsDiff(float[][] a, float[][] b) {
    if (a.length != b.length) {
      throw new AssertionError("row counts differ: " + a.length + " vs " + b.length);
    }
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, maxAbsDiff(a[i], b[i]));
    }
    return max;
  }
}
