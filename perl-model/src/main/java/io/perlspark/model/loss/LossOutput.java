package io.perlspark.model.loss;

import ai.djl.ndarray.NDArray;

/**
 * A loss scalar to call {@code backward} on, and its statistics.
 *
 * @param loss scalar, differentiable with respect to the current-policy log-probs
 * @param stats sums and counts of this computation
 */
public record LossOutput(NDArray loss, LossStats stats) {

  /** True when no response token took part: the loss is exactly 0. */
  public boolean empty() {
    return stats.empty();
  }
}
