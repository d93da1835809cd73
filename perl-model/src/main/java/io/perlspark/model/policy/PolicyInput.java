package io.perlspark.model.policy;

import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One prompt for the policy: token ids with {@code <image>} placeholders, and the images that fill
 * them in order.
 *
 * <p>The model prepends the tokenizer's bos id itself; {@code promptTokens} hold only the prompt.
 * Each placeholder is replaced by that image's patch embeddings, so image {@code i} goes to the
 * {@code i}-th placeholder and a permutation of {@code images} is visible through position.
 *
 * @param promptTokens token ids, containing exactly {@code images.length} image placeholders
 * @param images image {@code i} as CHW floats in [0, 1], {@code channels * imageSize * imageSize}
 *     long (see {@link ImagePixels})
 */
public record PolicyInput(int[] promptTokens, float[][] images) implements Serializable {

  public PolicyInput {
    Objects.requireNonNull(promptTokens, "promptTokens");
    images = images == null ? new float[0][] : images;
    for (int i = 0; i < images.length; i++) {
      if (images[i] == null) {
        throw new IllegalArgumentException("image " + i + " of the prompt is null");
      }
    }
  }

  /** A prompt from text: the text is tokenised without special tokens. */
  public static PolicyInput of(TextTokenizer tokenizer, String text, List<float[]> images) {
    return new PolicyInput(tokenizer.encode(text), images.toArray(new float[0][]));
  }

  public int imageCount() {
    return images.length;
  }

  /** The same prompt with its images in the order {@code order} (image {@code order[i]} first). */
  public PolicyInput withImageOrder(int[] order) {
    if (order.length != images.length) {
      throw new IllegalArgumentException(
          "image order has " + order.length + " entries but the prompt has " + images.length
              + " images");
    }
    float[][] reordered = new float[images.length][];
    boolean[] used = new boolean[images.length];
    for (int i = 0; i < order.length; i++) {
      int j = order[i];
      if (j < 0 || j >= images.length || used[j]) {
        throw new IllegalArgumentException(
            "image order " + Arrays.toString(order) + " is not a permutation of 0.."
                + (images.length - 1));
      }
      used[j] = true;
      reordered[i] = images[j];
    }
    return new PolicyInput(promptTokens, reordered);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PolicyInput other
        && Arrays.equals(promptTokens, other.promptTokens)
        && Arrays.deepEquals(images, other.images);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(promptTokens) + Arrays.deepHashCode(images);
  }

  @Override
  public String toString() {
    return "PolicyInput(" + promptTokens.length + " tokens, " + images.length + " images)";
  }
}
