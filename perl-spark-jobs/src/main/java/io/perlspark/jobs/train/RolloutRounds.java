package io.perlspark.jobs.train;

import io.perlspark.common.rl.BatchFiller;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.rollout.Rollout;
import io.perlspark.jobs.rollout.RolloutWorker;
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
  private int partitionsSoFar;
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
      // Round after round, so that partition i of the union is the one RolloutInfo#partition names.
      JavaRDD<Rollout> rollouts = rounds.get(0);
      for (int i = 1; i < rounds.size(); i++) {
        rollouts = rollouts.union(rounds.get(i));
      }
      return new Batch(fill, kept, rollouts, promptsDrawn, permutableDrawn, permutedCopies);
    });
  }

  /** One round: the groups of {@code wanted} or more newly drawn prompts (none once the stage's prompts are used up). */
  private List<GroupHandle> round(int round, int wanted) {
    int draw = drawSize(round, wanted);
    if (draw == 0) {
      return List.of(); // every prompt of the stage was drawn in this step
    }
    JavaRDD<Row> prompts = timings.time("permute", () -> drawAndPermute(draw));
    List<RolloutSummaries> summaries = timings.time("rollout", () -> rollOut(prompts));
    return timings.time("filter", () -> groups(summaries, round));
  }

  /** A refill round over-draws by the keep rate seen so far, so that one refill usually suffices. */
  private int drawSize(int round, int wanted) {
    int draw = round == 0 ? wanted
        : (int) Math.ceil(wanted / Math.max(0.25, groupsKeptSoFar / (double) Math.max(1, promptsDrawn)));
    return Math.min(stage.cursor().remainingThisStep(), draw);
  }

  /** The drawn prompts and their permuted copies (lazy: the transform runs inside the rollout job). */
  private JavaRDD<Row> drawAndPermute(int draw) {
    List<String> drawn = stage.cursor().next(draw);
    for (String id : drawn) {
      permutableDrawn += stage.data().eligibility().permutable().contains(id) ? 1 : 0;
    }
    return permute.expand(stage.data().rowsOf(drawn), stageStep, stage.steps());
  }

  /** Rolls out and scores on executors in one job; the rows stay cached, one summary per task comes back. */
  private List<RolloutSummaries> rollOut(JavaRDD<Row> prompts) {
    JavaRDD<Rollout> rollouts = resources.cache(prompts.mapPartitions(worker::records));
    rounds.add(rollouts);
    int offset = partitionsSoFar;
    partitionsSoFar += rollouts.getNumPartitions();
    return rollouts.mapPartitionsWithIndex(
        (pi, rows) -> List.of(RolloutSummaries.of(offset + pi, rows)).iterator(), false).collect();
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
