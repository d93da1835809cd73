package io.perlspark.common.eval;

import io.perlspark.common.data.AnswerKind;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Folds {@link EvalRecord}s into an {@link EvalReport}. A mutable, serializable accumulator made
 * for Spark's {@code aggregate(zero, add, merge)}: records may arrive in any order and partition,
 * and the permutations of one sample may sit in different partitions.
 *
 * <p>Everything kept is an integer count (rates and means are computed only in {@link #report}),
 * so adding and merging in any order gives exactly the same report. Consistency needs every
 * permutation of a sample, so a small state per sample (which permutations were seen, whether
 * their answers agree so far, whether all were correct) is kept until the end: a few dozen bytes
 * per sample.
 */
public final class EvalAggregator implements Serializable {
  private static final long serialVersionUID = 1L;

  private long records;
  private final Map<String, ScopeCounts> splits = new HashMap<>();
  private final Map<SampleKey, SampleState> samples = new HashMap<>();

  /** The report of a whole collection of records. */
  public static EvalReport aggregate(Collection<EvalRecord> records) {
    EvalAggregator a = new EvalAggregator();
    for (EvalRecord r : records) {
      a.add(r);
    }
    return a.report();
  }

  /**
   * Adds one record; returns this (for {@code aggregate}).
   *
   * @throws IllegalArgumentException when the same (split, sample, permIndex) was already added, or
   *     the record disagrees with earlier permutations of its sample on family, kind or image count
   */
  public EvalAggregator add(EvalRecord r) {
    Objects.requireNonNull(r, "record");
    SampleKey key = new SampleKey(r.split(), r.sampleId());
    SampleState state = SampleState.of(r);
    SampleState seen = samples.get(key);
    if (seen == null) {
      samples.put(key, state);
    } else {
      seen.merge(state, key);
    }
    records++;
    splits.computeIfAbsent(r.split(), s -> new ScopeCounts()).add(r);
    return this;
  }

  /**
   * Adds everything of {@code other} into this; returns this (for {@code aggregate}). {@code other}
   * is not changed and shares no state with this afterwards.
   *
   * @throws IllegalArgumentException on merging an accumulator into itself, or when both hold the
   *     same (split, sample, permIndex)
   */
  public EvalAggregator merge(EvalAggregator other) {
    Objects.requireNonNull(other, "other");
    if (other == this) {
      throw new IllegalArgumentException("cannot merge an eval accumulator into itself (it would count every record twice)");
    }
    for (Map.Entry<SampleKey, SampleState> e : other.samples.entrySet()) {
      SampleState seen = samples.get(e.getKey());
      if (seen == null) {
        samples.put(e.getKey(), e.getValue().copy());
      } else {
        seen.merge(e.getValue(), e.getKey());
      }
    }
    records += other.records;
    for (Map.Entry<String, ScopeCounts> e : other.splits.entrySet()) {
      splits.computeIfAbsent(e.getKey(), s -> new ScopeCounts()).addAll(e.getValue());
    }
    return this;
  }

  /** Records added so far. */
  public long records() {
    return records;
  }

  /** The report of everything added so far (the accumulator stays usable). */
  public EvalReport report() {
    Map<String, List<SampleState>> statesBySplit = new TreeMap<>();
    for (Map.Entry<SampleKey, SampleState> e : samples.entrySet()) {
      statesBySplit.computeIfAbsent(e.getKey().split(), s -> new ArrayList<>()).add(e.getValue());
    }
    Map<String, ScopeReport> bySplit = new TreeMap<>();
    ScopeCounts pooled = new ScopeCounts();
    for (String split : new TreeMap<>(splits).keySet()) {
      ScopeCounts counts = splits.get(split);
      bySplit.put(split, counts.report(statesBySplit.getOrDefault(split, List.of())));
      pooled.addAll(counts);
    }
    return new EvalReport(records, pooled.report(samples.values()), bySplit);
  }

  // ------------------------------------------------------------------ state

  private record SampleKey(String split, String sampleId) implements Serializable {}

  /** What consistency needs of one sample, merged over its permutations. */
  private static final class SampleState implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String family;
    private final AnswerKind kind;
    private final int imageCount;
    private final BitSet permutations;
    /** The content the first usable answer refers to; meaningful only while {@link #consistent}. */
    private String contentKey;
    private boolean consistent;
    private boolean allCorrect;

    private SampleState(String family, AnswerKind kind, int imageCount, BitSet permutations, String contentKey,
        boolean consistent, boolean allCorrect) {
      this.family = family;
      this.kind = kind;
      this.imageCount = imageCount;
      this.permutations = permutations;
      this.contentKey = contentKey;
      this.consistent = consistent;
      this.allCorrect = allCorrect;
    }

    static SampleState of(EvalRecord r) {
      BitSet perms = new BitSet();
      perms.set(r.permIndex());
      String key = Consistency.contentKey(r).orElse(null);
      return new SampleState(r.family(), r.answerKind(), r.imageCount(), perms, key, key != null, r.correct());
    }

    SampleState copy() {
      return new SampleState(family, kind, imageCount, (BitSet) permutations.clone(), contentKey, consistent,
          allCorrect);
    }

    void merge(SampleState o, SampleKey key) {
      String where = "split '" + key.split() + "', sample '" + key.sampleId() + "'";
      if (!family.equals(o.family) || kind != o.kind || imageCount != o.imageCount) {
        throw new IllegalArgumentException(where + ": permutations disagree on the sample (family/kind/images "
            + family + "/" + kind.wireName() + "/" + imageCount + " vs " + o.family + "/" + o.kind.wireName() + "/"
            + o.imageCount + ")");
      }
      if (permutations.intersects(o.permutations)) {
        BitSet both = (BitSet) permutations.clone();
        both.and(o.permutations);
        throw new IllegalArgumentException(where + ": permIndex " + both.nextSetBit(0)
            + " was evaluated twice (duplicate eval records)");
      }
      permutations.or(o.permutations);
      consistent = consistent && o.consistent && Objects.equals(contentKey, o.contentKey);
      allCorrect = allCorrect && o.allCorrect;
    }

    boolean permuted() {
      return permutations.cardinality() >= 2;
    }
  }

  /** Additive counts of a group. */
  private static final class GroupCounts implements Serializable {
    private static final long serialVersionUID = 1L;

    private long samples;
    private long correct;
    private long formatOk;
    private long lengthSum;
    private long responses;
    private long responsesCorrect;

    void add(EvalRecord r) {
      responses++;
      if (r.correct()) {
        responsesCorrect++;
      }
      if (r.isOriginal()) {
        samples++;
        if (r.correct()) {
          correct++;
        }
        if (r.formatOk()) {
          formatOk++;
        }
        lengthSum += r.responseLength();
      }
    }

    void addAll(GroupCounts o) {
      samples += o.samples;
      correct += o.correct;
      formatOk += o.formatOk;
      lengthSum += o.lengthSum;
      responses += o.responses;
      responsesCorrect += o.responsesCorrect;
    }

    GroupMetrics metrics() {
      return new GroupMetrics(samples, correct, GroupMetrics.ratio(correct, samples), responses, responsesCorrect,
          GroupMetrics.ratio(responsesCorrect, responses), GroupMetrics.ratio(formatOk, samples),
          samples == 0 ? null : (double) lengthSum / samples);
    }
  }

  /** Additive counts of one split. */
  private static final class ScopeCounts implements Serializable {
    private static final long serialVersionUID = 1L;

    private final GroupCounts all = new GroupCounts();
    private final GroupCounts multi = new GroupCounts();
    private final GroupCounts single = new GroupCounts();
    private final Map<String, GroupCounts> families = new HashMap<>();
    /** Index = 1-based answer position; original-order image-answer samples only. */
    private long[] samplesAt = new long[0];
    private long[] correctAt = new long[0];
    private long namingImage1;
    /** Image-answer samples by image count, for the share a uniform guesser names image 1. */
    private final Map<Integer, Long> imageAnswerByImageCount = new HashMap<>();

    void add(EvalRecord r) {
      all.add(r);
      if (r.imageCount() >= 2) {
        multi.add(r);
      } else if (r.imageCount() == 1) {
        single.add(r);
      }
      families.computeIfAbsent(r.family(), f -> new GroupCounts()).add(r);
      if (r.isOriginal() && r.answerPosition() > 0) {
        int p = r.answerPosition();
        grow(p);
        samplesAt[p]++;
        if (r.correct()) {
          correctAt[p]++;
        }
        if (r.predictedPosition() == 1) {
          namingImage1++;
        }
        imageAnswerByImageCount.merge(r.imageCount(), 1L, Long::sum);
      }
    }

    void addAll(ScopeCounts o) {
      all.addAll(o.all);
      multi.addAll(o.multi);
      single.addAll(o.single);
      for (Map.Entry<String, GroupCounts> e : o.families.entrySet()) {
        families.computeIfAbsent(e.getKey(), f -> new GroupCounts()).addAll(e.getValue());
      }
      grow(o.samplesAt.length - 1);
      for (int p = 0; p < o.samplesAt.length; p++) {
        samplesAt[p] += o.samplesAt[p];
        correctAt[p] += o.correctAt[p];
      }
      namingImage1 += o.namingImage1;
      for (Map.Entry<Integer, Long> e : o.imageAnswerByImageCount.entrySet()) {
        imageAnswerByImageCount.merge(e.getKey(), e.getValue(), Long::sum);
      }
    }

    private void grow(int position) {
      if (position >= samplesAt.length) {
        samplesAt = Arrays.copyOf(samplesAt, position + 1);
        correctAt = Arrays.copyOf(correctAt, position + 1);
      }
    }

    ScopeReport report(Collection<SampleState> states) {
      Map<String, GroupMetrics> familyMetrics = new TreeMap<>();
      families.forEach((f, c) -> familyMetrics.put(f, c.metrics()));
      long permuted = 0;
      long consistent = 0;
      long consistentCorrect = 0;
      Map<String, long[]> byFamily = new TreeMap<>();
      for (SampleState s : states) {
        if (!s.permuted()) {
          continue;
        }
        long[] f = byFamily.computeIfAbsent(s.family, k -> new long[3]);
        permuted++;
        f[0]++;
        if (s.consistent) {
          consistent++;
          f[1]++;
          if (s.allCorrect) {
            consistentCorrect++;
            f[2]++;
          }
        }
      }
      Map<String, ConsistencyStats> familyConsistency = new TreeMap<>();
      byFamily.forEach((f, c) -> familyConsistency.put(f, ConsistencyStats.of(c[0], c[1], c[2])));
      return new ScopeReport(all.metrics(), multi.metrics(), single.metrics(), familyMetrics, positional(),
          ConsistencyStats.of(permuted, consistent, consistentCorrect), familyConsistency);
    }

    private PositionalBias positional() {
      long total = 0;
      List<PositionAccuracy> byPosition = new ArrayList<>();
      long otherSamples = 0;
      long otherCorrect = 0;
      double otherAccuracySum = 0;
      int otherPositions = 0;
      for (int p = 1; p < samplesAt.length; p++) {
        Double acc = GroupMetrics.ratio(correctAt[p], samplesAt[p]);
        byPosition.add(new PositionAccuracy(p, samplesAt[p], correctAt[p], acc));
        total += samplesAt[p];
        if (p >= 2 && acc != null) {
          otherSamples += samplesAt[p];
          otherCorrect += correctAt[p];
          otherAccuracySum += acc;
          otherPositions++;
        }
      }
      if (total == 0) {
        return PositionalBias.EMPTY;
      }
      double chance = 0;
      for (Map.Entry<Integer, Long> e : new TreeMap<>(imageAnswerByImageCount).entrySet()) {
        chance += (double) e.getValue() / e.getKey();
      }
      Double atFirst = samplesAt.length > 1 ? GroupMetrics.ratio(correctAt[1], samplesAt[1]) : null;
      Double atOthers = GroupMetrics.ratio(otherCorrect, otherSamples);
      Double gap = atFirst != null && atOthers != null ? atFirst - atOthers : null;
      Double gapPositionMean = atFirst != null && otherPositions > 0 ? atFirst - otherAccuracySum / otherPositions : null;
      return new PositionalBias(total, byPosition, namingImage1, GroupMetrics.ratio(namingImage1, total),
          chance / total, atFirst, atOthers, gap, gapPositionMean);
    }
  }
}
