package io.perlspark.jobs.train;

import io.perlspark.common.rl.BatchFiller;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.rollout.Rollout;
import io.perlspark.jobs.rollout.RolloutWorker;
import io.perlspark.jobs.spark.LeanRdds;
import io.perlspark.jobs.spark.SlicedRDD;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;

/**
 * A step's draw → permute → roll out → filter/refill phases: rounds of prompts drawn from the
 * cursor, expanded into permutation groups, rolled out and scored on executors, until the online
 * filter has kept a full batch or the rounds run out (DAPO dynamic sampling). The prompts keep the
 * stage data's partitioning (no shuffle). A round is one Spark job on plain RDDs (no Dataset to plan
 * per round): its rollouts stay cached, as compact objects ({@link Rollout}), for the update, and only one summary object
 * per task ({@link RolloutSummaries}) reaches the driver.
 */
final class RolloutRounds {
  /**
   * A filled batch.
   *
   * @param kept the kept groups in group-id order
   * @param rollouts every round's rollouts (kept groups and dropped ones), cached; partition i
   *     holds the rollouts whose {@link RolloutInfo#partition()} is i
   * @param permutableDrawn drawn prompts that a permutation can move
   * @param permutedCopies permuted copies among the drawn groups
   */
  record Batch(BatchFiller.FillResult<GroupHandle> fill, List<GroupHandle> kept, JavaRDD<Rollout> rollouts,
      int promptsDrawn, int permutableDrawn, int permutedCopies) {}

  private final StageRun stage;
  private final long stageStep;
  private final RolloutWorker worker;
  private final PermutationTransform permute;
  private final StepTimings timings;
  private final StepResources resources;
  private final List<JavaRDD<Rollout>> rounds = new ArrayList<>();
  /** For each prompt partition of each round so far: its slices' partitions in the union of the rounds. */
  private final List<int[]> slicesOfPartition = new ArrayList<>();
  private int slicesSoFar;
  private int promptsDrawn;
  private int groupsKeptSoFar;
  private int permutableDrawn;
  private int permutedCopies;

  RolloutRounds(StageRun stage, long stageStep, RolloutWorker worker, StepTimings timings, StepResources resources) {
    this.stage = stage;
    this.stageStep = stageStep;
    this.worker = worker;
    this.permute = new PermutationTransform(stage.permuter());
    this.timings = timings;
    this.resources = resources;
  }

  /** Fills a batch of {@code promptBatch} groups (fewer when the rounds or the stage's prompts run out). */
  Batch fill(int promptBatch) {
    stage.cursor().startStep();
    BatchFiller.FillResult<GroupHandle> fill = BatchFiller.fill(promptBatch, stage.maxRounds(), this::round,
        g -> stage.groupFilter().decide(g.stats()));
    return timings.time("filter", () -> {
      List<GroupHandle> kept = new ArrayList<>(fill.kept());
      kept.sort(Comparator.comparing(GroupHandle::groupId));
      JavaRDD<Rollout> rollouts = rounds.get(0);
      for (int i = 1; i < rounds.size(); i++) {
        rollouts = rollouts.union(rounds.get(i));
      }
      // Slices back into their prompt partitions, round after round: partition i is the one
      // RolloutInfo#partition names, and holds what one task over that prompt partition would have.
      rollouts = SlicedRDD.regroup(rollouts, slicesOfPartition.toArray(new int[0][]));
      return new Batch(fill, kept, rollouts, promptsDrawn, permutableDrawn, permutedCopies);
    });
  }

  /** One round: the groups of {@code wanted} or more newly drawn prompts (none once the stage's prompts are used up). */
  private List<GroupHandle> round(int round, int wanted) {
    int draw = drawSize(round, wanted);
    if (draw == 0) {
      return List.of(); // every prompt of the stage was drawn in this step
    }
    List<String> drawn = stage.cursor().next(draw);
    JavaRDD<Row> prompts = timings.time("permute", () -> drawAndPermute(drawn));
    List<RolloutSummaries> summaries = timings.time("rollout", () -> rollOut(prompts, slices(drawn)));
    return timings.time("filter", () -> groups(summaries, round));
  }

  /** A refill round over-draws by the keep rate seen so far, so that one refill usually suffices. */
  private int drawSize(int round, int wanted) {
    int draw = round == 0 ? wanted
        : (int) Math.ceil(wanted / Math.max(0.25, groupsKeptSoFar / (double) Math.max(1, promptsDrawn)));
    return Math.min(stage.cursor().remainingThisStep(), draw);
  }

  /** The drawn prompts and their permuted copies (lazy: the transform runs inside the rollout job). */
  private JavaRDD<Row> drawAndPermute(List<String> drawn) {
    for (String id : drawn) {
      permutableDrawn += stage.data().eligibility().permutable().contains(id) ? 1 : 0;
    }
    return permute.expand(stage.data().rowsOf(drawn), stageStep, stage.steps());
  }

  /**
   * Generation chunks per prompt partition (at most: a prompt gets its k copies only when eligible
   * and its coin falls); one each when the partitions of the prompts are not known.
   */
  private int[] slices(List<String> drawn) {
    int[] rows = new int[stage.data().partitions()];
    int copies = stage.permuter().config().copies();
    for (String id : drawn) {
      int p = stage.data().partitionOf(id);
      if (p < 0) {
        return null;
      }
      rows[p] += stage.data().eligibility().permutable().contains(id) ? 1 + copies : 1;
    }
    int[] slices = new int[rows.length];
    for (int p = 0; p < rows.length; p++) {
      slices[p] = Math.max(1, (rows[p] + worker.promptsPerCall() - 1) / worker.promptsPerCall());
    }
    return slices;
  }

  /**
   * Rolls out and scores on executors in one job, a task per generation chunk (so that both slots
   * work until the round's end; each chunk is the one a task over the whole prompt partition would
   * cut). The rollouts stay cached; one summary per task comes back.
   */
  private List<RolloutSummaries> rollOut(JavaRDD<Row> prompts, int[] slices) {
    int[] perPartition = slices != null ? slices : ones(prompts.getNumPartitions());
    int sliceSize = slices != null ? worker.promptsPerCall() : Integer.MAX_VALUE;
    // Cached as one array per task: Spark sizes a cached partition by walking its object graph, for
    // a partition of records again and again as it grows (its sampling rule: ~30 walks for 128), for one
    // array once. The flattened view is what the summaries and the gradient jobs read.
    RolloutWorker work = worker;
    JavaRDD<Rollout[]> blocks = resources.cache(LeanRdds.mapPartitions(SlicedRDD.of(prompts, perPartition, sliceSize),
        (i, rows) -> List.<Rollout[]>of(work.records(rows)).iterator()));
    JavaRDD<Rollout> rollouts = LeanRdds.flatMap(blocks, b -> java.util.Arrays.asList(b).iterator());
    rounds.add(rollouts);
    int[] parentOf = SlicedRDD.parentsOf(perPartition);
    int firstGroup = slicesOfPartition.size();
    for (int p = 0; p < perPartition.length; p++) {
      List<Integer> mine = new ArrayList<>();
      for (int i = 0; i < parentOf.length; i++) {
        if (parentOf[i] == p) {
          mine.add(slicesSoFar + i);
        }
      }
      slicesOfPartition.add(mine.stream().mapToInt(Integer::intValue).toArray());
    }
    slicesSoFar += parentOf.length;
    return LeanRdds.collect(LeanRdds.mapPartitions(rollouts,
        (i, rows) -> List.of(RolloutSummaries.of(firstGroup + parentOf[i], rows)).iterator()));
  }

  private static int[] ones(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, 1);
    return a;
  }

  /** The round's groups, each with its online-filter verdict counted towards the next round's draw. */
  private List<GroupHandle> groups(List<RolloutSummaries> summaries, int round) {
    List<RolloutInfo> infos = new ArrayList<>();
    for (RolloutSummaries s : summaries) {
      infos.addAll(s.infos());
    }
    List<GroupHandle> groups = groupById(infos, round);
    promptsDrawn += groups.size();
    for (GroupHandle g : groups) {
      permutedCopies += (int) g.rollouts().stream().filter(r -> r.copy() > 0).map(RolloutInfo::id).distinct().count();
      groupsKeptSoFar += stage.groupFilter().decide(g.stats()).kept() ? 1 : 0;
    }
    return groups;
  }

  /** Groups rollout summaries by group id, rollouts ordered by (copy id, index). */
  private static List<GroupHandle> groupById(List<RolloutInfo> infos, int round) {
    Map<String, List<RolloutInfo>> byGroup = new TreeMap<>();
    for (RolloutInfo info : infos) {
      byGroup.computeIfAbsent(info.groupId(), k -> new ArrayList<>()).add(info);
    }
    List<GroupHandle> out = new ArrayList<>(byGroup.size());
    for (Map.Entry<String, List<RolloutInfo>> e : byGroup.entrySet()) {
      e.getValue().sort((a, b) -> a.id().equals(b.id()) ? Integer.compare(a.idx(), b.idx()) : a.id().compareTo(b.id()));
      out.add(GroupHandle.of(e.getKey(), round, e.getValue()));
    }
    return out;
  }
}
