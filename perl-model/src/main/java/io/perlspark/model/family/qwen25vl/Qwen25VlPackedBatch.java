package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.policy.PackedBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Prompts and responses packed for {@link Qwen25VlPolicy#responseTensors}: each row is prompt +
 * response, LEFT-padded to the batch's longest row (the generation layout, so a row's positions do
 * not depend on its batch), with its attention mask; per image of the batch (rows in order) its
 * pixels and grid; and the response layout (prompt and response length per row). The response axis
 * {@code T} is the longest response (at least 1). Plain arrays only, so it can travel between JVMs.
 */
public final class Qwen25VlPackedBatch implements PackedBatch {
  private static final long serialVersionUID = 1L;

  private final int[][] inputIds;
  private final int[][] attentionMask;
  private final int[] promptLengths;
  private final int[] responseLengths;
  private final int[] imagesPerRow;
  private final float[][] pixels;
  private final int[][] grids;

  Qwen25VlPackedBatch(List<Qwen25VlPrompt> prompts, int[][] responses, int padId) {
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(responses, "responses");
    if (prompts.size() != responses.length) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts but " + responses.length + " responses");
    }
    int b = prompts.size();
    promptLengths = new int[b];
    responseLengths = new int[b];
    imagesPerRow = new int[b];
    List<int[]> rows = new ArrayList<>(b);
    List<float[]> px = new ArrayList<>();
    List<int[]> gr = new ArrayList<>();
    for (int i = 0; i < b; i++) {
      Qwen25VlPrompt p = prompts.get(i);
      int[] r = Objects.requireNonNull(responses[i], "response " + i);
      promptLengths[i] = p.length();
      responseLengths[i] = r.length;
      imagesPerRow[i] = p.grids().size();
      int[] row = Arrays.copyOf(p.inputIds(), p.length() + r.length);
      System.arraycopy(r, 0, row, p.length(), r.length);
      rows.add(row);
      px.addAll(p.pixels());
      gr.addAll(p.grids());
    }
    if (b == 0) {
      inputIds = new int[0][];
      attentionMask = new int[0][];
    } else {
      LeftPaddedBatch padded = LeftPaddedBatch.of(rows, padId);
      inputIds = padded.inputIds();
      attentionMask = padded.attentionMask();
    }
    pixels = px.toArray(new float[0][]);
    grids = gr.toArray(new int[0][]);
  }

  /** The left-padded prompt + response ids {@code [B, L]}. */
  public int[][] inputIds() {
    return inputIds;
  }

  /** 1 on tokens, 0 on left padding, {@code [B, L]}. */
  public int[][] attentionMask() {
    return attentionMask;
  }

  public int[] promptLengths() {
    return promptLengths.clone();
  }

  /** Each row's prompt, with its own images (the model pads them again itself). */
  List<Qwen25VlPrompt> prompts() {
    List<Qwen25VlPrompt> out = new ArrayList<>(batchSize());
    int image = 0;
    for (int b = 0; b < batchSize(); b++) {
      int start = inputIds[b].length - promptLengths[b] - responseLengths[b];
      int[] ids = Arrays.copyOfRange(inputIds[b], start, start + promptLengths[b]);
      List<float[]> px = new ArrayList<>(imagesPerRow[b]);
      List<int[]> gr = new ArrayList<>(imagesPerRow[b]);
      for (int k = 0; k < imagesPerRow[b]; k++, image++) {
        px.add(pixels[image]);
        gr.add(grids[image]);
      }
      out.add(new Qwen25VlPrompt(ids, px, gr));
    }
    return out;
  }

  /** Each row's response tokens. */
  int[][] responses() {
    int[][] out = new int[batchSize()][];
    for (int b = 0; b < batchSize(); b++) {
      int end = inputIds[b].length;
      out[b] = Arrays.copyOfRange(inputIds[b], end - responseLengths[b], end);
    }
    return out;
  }

  @Override
  public int batchSize() {
    return promptLengths.length;
  }

  @Override
  public int responseLength() {
    int t = 1;
    for (int len : responseLengths) {
      t = Math.max(t, len);
    }
    return t;
  }

  @Override
  public int[] responseLengths() {
    return responseLengths.clone();
  }

  @Override
  public NDArray responseMask(NDManager manager) {
    int b = batchSize();
    int t = responseLength();
    float[] mask = new float[b * t];
    for (int row = 0; row < b; row++) {
      Arrays.fill(mask, row * t, row * t + responseLengths[row], 1f);
    }
    return manager.create(mask, new Shape(b, t));
  }

  @Override
  public String toString() {
    return "Qwen25VlPackedBatch(" + batchSize() + " rows, " + pixels.length + " images, T="
        + responseLength() + ")";
  }
}
