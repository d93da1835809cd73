package io.perlspark.common.eval;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The result of an evaluation: every figure for all splits pooled and for each split. Built by
 * {@link EvalAggregator}; a plain tree of records, so Jackson writes and reads it as JSON. Rates
 * without data are null, never NaN.
 *
 * @param records eval records aggregated (one per sample and permutation)
 * @param overall all splits pooled
 * @param splits per split, sorted by name
 */
public record EvalReport(long records, ScopeReport overall, Map<String, ScopeReport> splits) implements Serializable {
  private static final long serialVersionUID = 1L;

  public EvalReport {
    overall = overall == null ? ScopeReport.EMPTY : overall;
    splits = splits == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(splits));
  }

  /**
   * The scope of one split, or {@link #overall} when {@code split} is null.
   *
   * @throws IllegalArgumentException naming the split and the splits present when it is absent
   */
  public ScopeReport scope(String split) {
    if (split == null) {
      return overall;
    }
    ScopeReport s = splits.get(split);
    if (s == null) {
      throw new IllegalArgumentException("eval report has no split '" + split + "'; splits present: "
          + (splits.isEmpty() ? "none" : String.join(", ", splits.keySet())));
    }
    return s;
  }
}
