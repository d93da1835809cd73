package io.perlspark.common.eval;

import java.io.Serializable;

/**
 * Accuracy of the samples whose answer image sits at one position (original order).
 *
 * @param position 1-based answer position
 * @param samples samples with the answer at this position
 * @param correct of those, answered correctly
 * @param accuracy {@code correct / samples}, null when there were none
 */
public record PositionAccuracy(int position, long samples, long correct, Double accuracy) implements Serializable {
  private static final long serialVersionUID = 1L;
}
