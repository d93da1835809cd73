package io.perlspark.common.eval;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every figure of one scope: one eval split, or all splits pooled.
 *
 * @param metrics all samples of the scope
 * @param multiImage samples with >= 2 images
 * @param singleImage samples with exactly 1 image
 * @param families per task family (sorted by name; an unknown family is the empty string)
 * @param positional accuracy by answer position and the share of answers naming image 1
 * @param consistency permutation consistency of all permuted samples
 * @param familyConsistency permutation consistency per family (families with a permuted sample)
 */
public record ScopeReport(
    GroupMetrics metrics,
    GroupMetrics multiImage,
    GroupMetrics singleImage,
    Map<String, GroupMetrics> families,
    PositionalBias positional,
    ConsistencyStats consistency,
    Map<String, ConsistencyStats> familyConsistency)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final ScopeReport EMPTY = new ScopeReport(GroupMetrics.EMPTY, GroupMetrics.EMPTY,
      GroupMetrics.EMPTY, Map.of(), PositionalBias.EMPTY, ConsistencyStats.EMPTY, Map.of());

  public ScopeReport {
    families = sorted(families);
    familyConsistency = sorted(familyConsistency);
  }

  private static <V> Map<String, V> sorted(Map<String, V> m) {
    return m == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(m));
  }
}
