package io.perlspark.jobs.train;

import io.perlspark.common.data.Sample;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.rollout.PromptEncoding;
import io.perlspark.jobs.rollout.Rollout;
import io.perlspark.jobs.spark.LeanRdds;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.GradientWorker;
import io.perlspark.model.train.SftExample;
import io.perlspark.model.train.TrainingExample;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * The update's distributed half: executors compute the loss gradient on their share of a
 * mini-batch (micro-batched, with the mini-batch's global normaliser), and the driver sums the
 * per-partition gradients in partition order — a fixed order, so the sum is bitwise reproducible
 * (Spark's treeAggregate combines in completion order, which is not).
 */
public final class GradientStage {
  private GradientStage() {}

  /**
   * GRPO gradients of one mini-batch: the rollouts {@code advantages} names (by {@link
   * RolloutInfo#key}), read from the cached rollout partitions listed in {@code partitions} only.
   * One job of one task per listed partition; Spark starts them in the order given, so listing the
   * largest first keeps both slots busy to the end. The sum is in partition order whatever the
   * listing.
   *
   * @param advantages shipped inside the task closure (a few hundred entries): no broadcast to
   *     create and destroy per mini-batch
   */
  public static GradientResult grpo(JavaRDD<Rollout> rollouts, int[] partitions, PolicyRuntime runtime, String role,
      String version, Broadcast<byte[]> params, Map<String, Double> advantages, GrpoLossConfig loss,
      double normaliser, int microBatch, float temperature, LongAccumulator computeNanos) {
    LeanRdds.PartitionFunction<Rollout, Tuple2<Integer, GradientResult>> task = (pi, rows) -> {
      List<Rollout> mine = new ArrayList<>();
      while (rows.hasNext()) {
        Rollout r = rows.next();
        if (advantages.containsKey(RolloutInfo.key(r.id(), r.idx()))) {
          mine.add(r);
        }
      }
      if (mine.isEmpty()) {
        return java.util.Collections.<Tuple2<Integer, GradientResult>>emptyIterator();
      }
      // A fixed order within the partition (the rows' arrival order may vary): a reproducible sum.
      mine.sort(Comparator.comparing(Rollout::id).thenComparing(Rollout::idx));
      try (ExecutorModelCache.Lease lease = ExecutorModelCache.lease(role + "/policy", runtime, version, params)) {
        List<TrainingExample> examples = new ArrayList<>(mine.size());
        PromptCache prompts = new PromptCache(lease);
        for (Rollout r : mine) {
          examples.add(new TrainingExample(prompts.get(r.prompt()), r.tokens(), r.oldLogp(), r.refLogp(),
              advantages.get(RolloutInfo.key(r.id(), r.idx()))));
        }
        GradientResult g;
        // One gradient computation per JVM at a time (Engines.TRAINING_LOCK): the clock starts once
        // this task holds the lock, so a task waiting for another's backward pass is not counted as
        // model compute.
        synchronized (Engines.TRAINING_LOCK) {
          long t0 = System.nanoTime();
          g = GradientWorker.grpoGradients(lease.model(), examples, loss, normaliser, microBatch, temperature);
          if (computeNanos != null) {
            computeNanos.add(System.nanoTime() - t0);
          }
        }
        return List.of(new Tuple2<>(pi, g)).iterator();
      }
    };
    List<List<Tuple2<Integer, GradientResult>>> parts =
        LeanRdds.collectPartitions(LeanRdds.mapPartitions(rollouts, task), partitions);
    List<Tuple2<Integer, GradientResult>> all = new ArrayList<>();
    for (List<Tuple2<Integer, GradientResult>> p : parts) {
      all.addAll(p);
    }
    return sumInOrder(all);
  }

  /** SFT gradients of a batch of canonical rows carrying a {@code response}. */
  public static GradientResult sft(JavaRDD<Row> batch, PolicyRuntime runtime, String role, String version,
      Broadcast<byte[]> params,
      double normaliser, int microBatch) {
    List<Tuple2<Integer, GradientResult>> parts = LeanRdds.collect(LeanRdds.mapPartitions(batch, (pi, rows) -> {
      List<Row> mine = new ArrayList<>();
      rows.forEachRemaining(mine::add);
      if (mine.isEmpty()) {
        return java.util.Collections.<Tuple2<Integer, GradientResult>>emptyIterator();
      }
      mine.sort(Comparator.comparing(r -> r.<String>getAs("id")));
      try (ExecutorModelCache.Lease lease = ExecutorModelCache.lease(role + "/policy", runtime, version, params)) {
        List<SftExample> examples = new ArrayList<>(mine.size());
        for (Row r : mine) {
          Sample s = SampleSchema.fromRow(r);
          PolicyInput in = PromptEncoding.encode(s, lease.prompts());
          examples.add(new SftExample(in, SftTargets.tokens(lease.model().tokenizer(), SampleSchema.response(r))));
        }
        GradientResult g = GradientWorker.sftGradients(lease.model(), examples, normaliser, microBatch);
        return List.of(new Tuple2<>(pi, g)).iterator();
      }
    }));
    return sumInOrder(parts);
  }

  static GradientResult sumInOrder(List<Tuple2<Integer, GradientResult>> parts) {
    List<Tuple2<Integer, GradientResult>> sorted = new ArrayList<>(parts);
    sorted.sort(Comparator.comparing(Tuple2::_1));
    GradientResult sum = null;
    for (Tuple2<Integer, GradientResult> p : sorted) {
      sum = sum == null ? p._2() : sum.merge(p._2());
    }
    if (sum == null) {
      throw new IllegalStateException("no partition held any example of the mini-batch");
    }
    return sum;
  }

  /** Decodes each distinct prompt once per task (a group's n responses share it). */
  static final class PromptCache implements Serializable {
    private static final long serialVersionUID = 1L;
    private final transient ExecutorModelCache.Lease lease;
    private final java.util.Map<String, PolicyInput> byId = new java.util.HashMap<>();

    PromptCache(ExecutorModelCache.Lease lease) {
      this.lease = lease;
    }

    PolicyInput get(Row r) {
      return byId.computeIfAbsent(r.<String>getAs("id"), id -> PromptEncoding.encode(SampleSchema.fromRow(r),
          lease.prompts()));
    }
  }
}
