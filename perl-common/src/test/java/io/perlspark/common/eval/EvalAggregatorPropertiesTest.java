package io.perlspark.common.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.permute.Permutations;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The report does not depend on how records are partitioned, ordered or merged. */
class EvalAggregatorPropertiesTest {

  @Property(tries = 200)
  void mergeOrderDoesNotMatter(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int sampleCount,
      @ForAll @IntRange(min = 1, max = 6) int partitions) {
    List<EvalRecord> records = randomRecords(new SplittableRandom(seed), sampleCount);
    EvalReport expected = EvalAggregator.aggregate(records);

    Random rng = new Random(seed ^ 0x5DEECE66DL);
    List<EvalRecord> shuffled = new ArrayList<>(records);
    Collections.shuffle(shuffled, rng);
    List<EvalAggregator> parts = new ArrayList<>();
    for (int i = 0; i < partitions; i++) {
      parts.add(new EvalAggregator());
    }
    for (EvalRecord r : shuffled) {
      parts.get(rng.nextInt(partitions)).add(r);
    }
    // merge random pairs until one is left: every tree shape and order can occur
    while (parts.size() > 1) {
      EvalAggregator a = parts.remove(rng.nextInt(parts.size()));
      EvalAggregator b = parts.remove(rng.nextInt(parts.size()));
      parts.add(a.merge(b));
    }
    assertEquals(expected, parts.get(0).report());
  }

  @Property(tries = 100)
  void consistencyAgreesWithGroupingTheRecords(@ForAll long seed, @ForAll @IntRange(min = 0, max = 30) int sampleCount) {
    List<EvalRecord> records = randomRecords(new SplittableRandom(seed), sampleCount);
    Map<String, List<EvalRecord>> bySample = new LinkedHashMap<>();
    records.forEach(r -> bySample.computeIfAbsent(r.split() + "/" + r.sampleId(), k -> new ArrayList<>()).add(r));
    long permuted = 0;
    long consistent = 0;
    long consistentCorrect = 0;
    for (List<EvalRecord> copies : bySample.values()) {
      if (copies.size() < 2) {
        continue;
      }
      permuted++;
      if (Consistency.consistent(copies)) {
        consistent++;
        if (copies.stream().allMatch(EvalRecord::correct)) {
          consistentCorrect++;
        }
      }
    }
    assertEquals(ConsistencyStats.of(permuted, consistent, consistentCorrect),
        EvalAggregator.aggregate(records).overall().consistency());
  }

  /** Samples over two splits and three kinds, 1–3 orders each, predictions biased toward image 1. */
  static List<EvalRecord> randomRecords(SplittableRandom rng, int samples) {
    List<EvalRecord> out = new ArrayList<>();
    AnswerKind[] kinds = {AnswerKind.IMAGE_INDEX, AnswerKind.NUMBER, AnswerKind.ORDERING};
    for (int s = 0; s < samples; s++) {
      String split = rng.nextBoolean() ? "eval" : "eval_b";
      AnswerKind kind = kinds[rng.nextInt(kinds.length)];
      int n = 1 + rng.nextInt(4);
      int answer = 1 + rng.nextInt(n);
      List<int[]> orders = Permutations.all(n, Permutations.identity(n));
      Collections.shuffle(orders.subList(1, orders.size()), new Random(rng.nextLong()));
      int copies = Math.min(orders.size(), 1 + rng.nextInt(3));
      for (int p = 0; p < copies; p++) {
        int[] order = orders.get(p);
        int length = rng.nextInt(40);
        boolean format = rng.nextInt(10) > 0;
        Rec rec = Rec.of("s" + s).split(split).family(kind.wireName()).kind(kind).images(n).perm(p, order)
            .length(length).formatOk(format);
        switch (kind) {
          case IMAGE_INDEX -> {
            int at = 0;
            for (int j = 0; j < n; j++) {
              if (order[j] == answer - 1) {
                at = j + 1;
              }
            }
            int predicted = rng.nextInt(3) == 0 ? 1 : rng.nextInt(n + 1);
            rec.answerAt(at).predictedAt(predicted);
          }
          case NUMBER -> {
            String predicted = rng.nextInt(4) == 0 ? null : Integer.toString(rng.nextInt(3));
            rec.gold("1").predicted(predicted).correct("1".equals(predicted));
          }
          default -> {
            // a small set of guesses, so that copies agree sometimes
            int[] seq = Permutations.identity(n);
            if (rng.nextBoolean()) {
              for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = seq[i];
                seq[i] = seq[j];
                seq[j] = t;
              }
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
              sb.append(i == 0 ? "" : ",").append(seq[i] + 1);
            }
            rec.gold(sb.toString()).predicted(sb.toString()).correct(rng.nextBoolean());
          }
        }
        out.add(rec.build());
      }
    }
    return out;
  }
}
