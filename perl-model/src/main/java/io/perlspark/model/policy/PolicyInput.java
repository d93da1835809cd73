package io.perlspark.model.policy;

import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One prompt for the policy, as a family's {@code PromptProcessor} made it: token ids with image
 * placeholders, and the images that fill them in order.
 *
 * <p>Image {@code i} goes to the {@code i}-th placeholder, so a permutation of {@code images} is
 * visible through position. What a placeholder token is, how many sequence positions an image
 * takes and what the pixel arrays hold is the family's business (the built-in model: one
 * {@code <image>} token per image, CHW floats of a fixed size; a family with variable-size images
 * also records each image's patch grid).
 *
 * @param promptTokens token ids, containing exactly {@code images.length} image placeholders
 * @param images image {@code i}'s pixels in the family's layout
 * @param imageGrids image {@code i}'s patch grid {@code (t, h, w)} for families whose images vary in
 *     size; empty (no grids at all) for fixed-size families. Null is read as empty.
 */
public record PolicyInput(int[] promptTokens, float[][] images, int[][] imageGrids)
    implements Serializable {

  public PolicyInput {
    Objects.requireNonNull(promptTokens, "promptTokens");
    images = images == null ? new float[0][] : images;
    imageGrids = imageGrids == null ? new int[0][] : imageGrids;
    for (int i = 0; i < images.length; i++) {
      if (images[i] == null) {
        throw new IllegalArgumentException("image " + i + " of the prompt is null");
      }
    }
    if (imageGrids.length != 0) {
      if (imageGrids.length != images.length) {
        throw new IllegalArgumentException(
            "the prompt has " + images.length + " images but " + imageGrids.length
                + " image grids; give one (t, h, w) grid per image or none");
      }
      for (int i = 0; i < imageGrids.length; i++) {
        int[] g = imageGrids[i];
        if (g == null || g.length != 3 || g[0] <= 0 || g[1] <= 0 || g[2] <= 0) {
          throw new IllegalArgumentException(
              "image grid " + i + " is " + Arrays.toString(g) + "; expected (t, h, w), all > 0");
        }
      }
    }
  }

  /** A prompt of a fixed-size family (no image grids). */
  public PolicyInput(int[] promptTokens, float[][] images) {
    this(promptTokens, images, null);
  }

  /** A prompt from text: the text is tokenised without special tokens; no image grids. */
  public static PolicyInput of(TextTokenizer tokenizer, String text, List<float[]> images) {
    return new PolicyInput(tokenizer.encode(text), images.toArray(new float[0][]));
  }

  public int imageCount() {
    return images.length;
  }

  /** Whether the images carry patch grids (variable-size families). */
  public boolean hasImageGrids() {
    return imageGrids.length != 0;
  }

  /**
   * The same prompt with its images (and their grids) in the order {@code order} (image {@code
   * order[i]} first); the tokens stay, so the placeholders receive the images in the new order.
   */
  public PolicyInput withImageOrder(int[] order) {
    if (order.length != images.length) {
      throw new IllegalArgumentException(
          "image order has " + order.length + " entries but the prompt has " + images.length
              + " images");
    }
    float[][] reordered = new float[images.length][];
    int[][] grids = hasImageGrids() ? new int[images.length][] : null;
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
      if (grids != null) {
        grids[i] = imageGrids[j];
      }
    }
    return new PolicyInput(promptTokens, reordered, grids);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PolicyInput other
        && Arrays.equals(promptTokens, other.promptTokens)
        && Arrays.deepEquals(images, other.images)
        && Arrays.deepEquals(imageGrids, other.imageGrids);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(promptTokens) + Arrays.deepHashCode(images))
        + Arrays.deepHashCode(imageGrids);
  }

  @Override
  public String toString() {
    return "PolicyInput(" + promptTokens.length + " tokens, " + images.length + " images"
        + (hasImageGrids() ? ", grids" : "") + ")";
  }
}
