package io.perlspark.model.family.qwen25vl;

import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.owned;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The per-step inputs of cached decoding besides the token ids, kept on the device so that a step
 * uploads nothing: the attention bias of every step is a prefix of one {@code [B, 1, 1, width +
 * steps]} row (prompt pad columns masked, generated columns open), built once; the M-RoPE cos/sin
 * of the generated positions are computed in Java by {@link Qwen25VlRope#textCosSin} (the same
 * numbers as the prefill's) for {@link #BLOCK} steps at a time and sliced per step.
 */
final class Qwen25VlDecodeInputs implements AutoCloseable {
  /** Steps whose cos/sin are uploaded together: one upload of {@code 2 * B * BLOCK * headDim} floats. */
  static final int BLOCK = 32;

  private final Qwen25VlConfig config;
  private final Qwen25VlRope.RopeIndex rope;
  private final int[] promptLengths;
  private final int batch;
  private final int promptWidth;
  private final NDManager manager;
  private final NDArray bias;
  private NDManager blockManager;
  private int blockStart = -1;
  private NDArray cos;
  private NDArray sin;

  /**
   * @param mask the prompts' left-padded attention mask (1 = token, 0 = pad)
   * @param promptLengths each row's prompt length (its non-pad columns)
   */
  Qwen25VlDecodeInputs(NDManager parent, Qwen25VlConfig config, Qwen25VlRope.RopeIndex rope,
      int[][] mask, int[] promptLengths, int steps) {
    this.config = config;
    this.rope = rope;
    this.promptLengths = promptLengths;
    this.batch = mask.length;
    this.manager = parent.newSubManager();
    int width = mask[0].length;
    this.promptWidth = width;
    int keys = width + steps;
    float[] row = new float[batch * keys];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < width; j++) {
        if (mask[b][j] == 0) {
          row[b * keys + j] = Qwen25VlModel.MASKED;
        }
      }
    }
    this.bias = owned(manager, row, new Shape(batch, 1, 1, keys));
  }

  /** Additive bias {@code [B, 1, 1, width + s + 1]} of decode step s (attached to {@code step}). */
  NDArray bias(NDManager step, int s) {
    NDArray slice = bias.get(":, :, :, 0:" + (promptWidth + s + 1));
    slice.attach(step);
    return slice;
  }

  /**
   * cos and sin {@code [B, 1, 1, headDim]} of the token fed at decode step s (position {@code
   * n_valid + s + rope_delta} on all three axes), attached to {@code step}.
   */
  NDArray[] cosSin(NDManager step, int s) {
    if (blockStart < 0 || s < blockStart || s >= blockStart + BLOCK) {
      loadBlock(s - s % BLOCK);
    }
    String at = ":, :, " + (s - blockStart) + ":" + (s - blockStart + 1);
    NDArray c = cos.get(at);
    NDArray n = sin.get(at);
    c.attach(step);
    n.attach(step);
    return new NDArray[] {c, n};
  }

  private void loadBlock(int start) {
    long[][][] pos = new long[3][batch][BLOCK];
    for (int b = 0; b < batch; b++) {
      for (int k = 0; k < BLOCK; k++) {
        long p = rope.generatedPosition(b, promptLengths[b], start + k);
        pos[0][b][k] = p;
        pos[1][b][k] = p;
        pos[2][b][k] = p;
      }
    }
    float[][] cs = Qwen25VlRope.textCosSin(pos, config);
    if (blockManager != null) {
      blockManager.close();
    }
    blockManager = manager.newSubManager();
    Shape table = new Shape(batch, 1, BLOCK, config.headDim());
    cos = owned(blockManager, cs[0], table);
    sin = owned(blockManager, cs[1], table);
    blockStart = start;
  }

  @Override
  public void close() {
    manager.close();
  }
}
