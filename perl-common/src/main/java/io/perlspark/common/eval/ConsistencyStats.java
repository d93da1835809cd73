package io.perlspark.common.eval;

import java.io.Serializable;

/**
 * Permutation consistency over the samples evaluated under at least two orders.
 *
 * @param samples samples with >= 2 permutations evaluated
 * @param consistent of those, how many had a usable answer under every permutation and all of them
 *     refer to the same content ({@link Consistency})
 * @param consistentAndCorrect of those, how many were also correct under every permutation
 * @param consistency {@code consistent / samples}, null when no sample was permuted
 * @param consistentAndCorrectShare {@code consistentAndCorrect / samples}, null likewise
 */
public record ConsistencyStats(
    long samples,
    long consistent,
    long consistentAndCorrect,
    Double consistency,
    Double consistentAndCorrectShare)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final ConsistencyStats EMPTY = of(0, 0, 0);

  public static ConsistencyStats of(long samples, long consistent, long consistentAndCorrect) {
    return new ConsistencyStats(samples, consistent, consistentAndCorrect,
        GroupMetrics.ratio(consistent, samples), GroupMetrics.ratio(consistentAndCorrect, samples));
  }
}
