package io.perlspark.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/** Per-token quantities from logits [B, T, V]: log-probs of given tokens, and entropy. */
public final class TokenLogProbs {
  private TokenLogProbs() {}

  /**
   * {@code log softmax(logits)[b, t, targets[b, t]]}: the log-probs of the given tokens [B, T],
   * differentiable with respect to the logits.
   *
   * @param logits [B, T, V]
   * @param targets token ids [B, T] (any integer type; padding ids must still be in [0, V))
   */
  @SuppressWarnings("try") // the NDScope releases intermediates; its variable is unused
  public static NDArray gather(NDArray logits, NDArray targets) {
    if (logits.getShape().dimension() != 3) {
      throw new IllegalArgumentException("logits must be [B, T, V], got shape " + logits.getShape());
    }
    if (!targets.getShape().equals(logits.getShape().slice(0, 2))) {
      throw new IllegalArgumentException(
          "targets must be [B, T] = " + logits.getShape().slice(0, 2) + ", got " + targets.getShape());
    }
    try (NDScope scope = new NDScope()) {
      NDArray out =
          logits.logSoftmax(-1).gather(targets.toType(DataType.INT64, false).expandDims(-1), -1).squeeze(-1);
      NDScope.unregister(out);
      return out;
    }
  }

  /** Entropy of the next-token distribution at each position [B, T] (for the entropy metric). */
  @SuppressWarnings("try") // the NDScope releases intermediates; its variable is unused
  public static NDArray entropy(NDArray logits) {
    if (logits.getShape().dimension() != 3) {
      throw new IllegalArgumentException("logits must be [B, T, V], got shape " + logits.getShape());
    }
    try (NDScope scope = new NDScope()) {
      NDArray logProbs = logits.logSoftmax(-1);
      NDArray out = logProbs.exp().mul(logProbs).sum(new int[] {-1}).neg();
      NDScope.unregister(out);
      return out;
    }
  }
}
