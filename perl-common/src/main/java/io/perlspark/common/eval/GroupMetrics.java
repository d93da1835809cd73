package io.perlspark.common.eval;

import java.io.Serializable;

/**
 * Accuracy and format figures of a group of samples (a split, a family, the multi-image samples…).
 * Rates are null when their denominator is 0, never NaN.
 *
 * @param samples samples evaluated in their original order (records with permIndex 0)
 * @param correct of those, how many were answered correctly
 * @param accuracy {@code correct / samples}: accuracy on the original order
 * @param responses all records, every permutation included
 * @param responsesCorrect of those, how many were correct
 * @param accuracyAllPermutations {@code responsesCorrect / responses}
 * @param formatRate share of original-order responses with the required format
 * @param meanResponseLength mean tokens per original-order response
 */
public record GroupMetrics(
    long samples,
    long correct,
    Double accuracy,
    long responses,
    long responsesCorrect,
    Double accuracyAllPermutations,
    Double formatRate,
    Double meanResponseLength)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  /** No samples: counts 0, rates null. */
  public static final GroupMetrics EMPTY = new GroupMetrics(0, 0, null, 0, 0, null, null, null);

  /** {@code num / den}, or null when {@code den} is 0. */
  static Double ratio(long num, long den) {
    return den == 0 ? null : (double) num / den;
  }
}
