package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.Serializable;

/**
 * Prompts and responses packed by a {@link PolicyModel} for one forward pass of its training path
 * ({@link PolicyModel#responseTensors}). Each family lays out its sequences its own way; the learner
 * sees only the response axis: {@code [B, T]} with {@code T} the longest response (at least 1) and a
 * mask that is 1 on real response tokens and 0 on padding.
 *
 * <p>A batch is plain data (cheap to build, may travel between JVMs) and is only valid for a model
 * of the family and sizes that packed it.
 */
public interface PackedBatch extends Serializable {

  /** {@code B}: the number of (prompt, response) rows. */
  int batchSize();

  /** {@code T}: the padded length of the responses (at least 1). */
  int responseLength();

  /** The real response lengths, one per row. */
  int[] responseLengths();

  /** The 0/1 mask of real response tokens, {@code [B, T]} float32, made in {@code manager}. */
  NDArray responseMask(NDManager manager);

  /** Number of real response tokens (the mask's sum). */
  default int tokenCount() {
    int n = 0;
    for (int len : responseLengths()) {
      n += len;
    }
    return n;
  }

  /** Splits a flat {@code [B*T]} array of per-token values into per-response arrays (padding cut). */
  default float[][] unpad(float[] flat) {
    int b = batchSize();
    int t = responseLength();
    if (flat.length != b * t) {
      throw new IllegalArgumentException(
          "expected " + b * t + " values ([" + b + ", " + t + "]) but got " + flat.length);
    }
    int[] lengths = responseLengths();
    float[][] out = new float[b][];
    for (int row = 0; row < b; row++) {
      out[row] = java.util.Arrays.copyOfRange(flat, row * t, row * t + lengths[row]);
    }
    return out;
  }
}
