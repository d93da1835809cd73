package io.perlspark.model.family.qwen25vl;

import java.util.List;
import java.util.Objects;

/**
 * One prompt as the processor hands it over: the full token ids (chat template rendered, each
 * {@code <|image_pad|>} already expanded to {@code t*h*w/merge^2} copies), and per image its
 * pixel values {@code float[n_patches * patchDim]} in the processor's patch order and its grid
 * {@code (t, h, w)} in patches.
 */
public record Qwen25VlPrompt(int[] inputIds, List<float[]> pixels, List<int[]> grids) {

  public Qwen25VlPrompt {
    Objects.requireNonNull(inputIds, "inputIds");
    pixels = List.copyOf(Objects.requireNonNull(pixels, "pixels"));
    grids = List.copyOf(Objects.requireNonNull(grids, "grids"));
    if (pixels.size() != grids.size()) {
      throw new IllegalArgumentException(
          pixels.size() + " pixel arrays but " + grids.size() + " grids; need one per image");
    }
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("a prompt needs at least one token");
    }
  }

  /** A text-only prompt. */
  public static Qwen25VlPrompt text(int[] inputIds) {
    return new Qwen25VlPrompt(inputIds, List.of(), List.of());
  }

  public int length() {
    return inputIds.length;
  }

  /** Checks the image tokens and pixel sizes against the grids; messages name prompt {@code index}. */
  void validate(int index, Qwen25VlConfig c) {
    Qwen25VlConfig.Vision v = c.vision();
    long tokens = 0;
    for (int i = 0; i < grids.size(); i++) {
      int[] g = grids.get(i);
      if (g.length != 3 || g[0] < 1 || g[1] < 1 || g[2] < 1
          || g[1] % v.spatialMergeSize() != 0 || g[2] % v.spatialMergeSize() != 0) {
        throw new IllegalArgumentException("prompt " + index + " image " + i + ": grid "
            + java.util.Arrays.toString(g) + " must be (t, h, w) >= 1 with h and w multiples of "
            + v.spatialMergeSize());
      }
      long patches = (long) g[0] * g[1] * g[2];
      if (pixels.get(i).length != patches * v.patchDim()) {
        throw new IllegalArgumentException("prompt " + index + " image " + i + ": "
            + pixels.get(i).length + " pixel values, but grid " + java.util.Arrays.toString(g)
            + " needs " + patches + " x " + v.patchDim());
      }
      tokens += patches / v.mergeUnit();
    }
    long found = 0;
    for (int id : inputIds) {
      if (id == c.imageTokenId()) {
        found++;
      }
      if (id == c.videoTokenId()) {
        throw new IllegalArgumentException("prompt " + index + " has a <|video_pad|> token;"
            + " videos are not supported (images only)");
      }
      if (id < 0 || id >= c.vocabSize()) {
        throw new IllegalArgumentException(
            "prompt " + index + " has token id " + id + " outside 0.." + (c.vocabSize() - 1));
      }
    }
    if (found != tokens) {
      throw new IllegalArgumentException("prompt " + index + " has " + found
          + " <|image_pad|> tokens but its grids need " + tokens);
    }
  }
}
