package io.perlspark.jobs.train;

import static org.apache.spark.sql.functions.col;

import io.perlspark.common.Seeds;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.FilterConfig;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.RolloutConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.rl.AdvantageEstimator;
import io.perlspark.common.rl.BatchFiller;
import io.perlspark.common.rl.GroupAdvantages;
import io.perlspark.common.rl.GroupFilter;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.rollout.ExecutorPolicies;
import io.perlspark.jobs.rollout.PolicyRuntime;
import io.perlspark.jobs.rollout.RolloutSchema;
import io.perlspark.jobs.rollout.RolloutWorker;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.CheckpointException;
import io.perlspark.model.checkpoint.CheckpointStore;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.train.DriverOptimizer;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.GradientWorker;
import io.perlspark.model.train.StepReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import me.tongfei.progressbar.ProgressBar;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PeRL training loop (DESIGN.md §4), driver-coordinated. One step reads top to bottom:
 *
 * <ol>
 *   <li>draw prompts (seeded cursor) and expand each into itself + k permuted copies (one group);
 *   <li>roll out n responses per copy on executors with the broadcast policy, score rewards there;
 *   <li>drop zero-variance groups and refill from more prompts (DAPO dynamic sampling);
 *   <li>GRPO advantages per group;
 *   <li>per mini-batch: gradients on executors, summed on the driver, clipped, AdamW, broadcast;
 *   <li>metrics, checkpoint, validation.
 * </ol>
 *
 * Every random choice is seeded from (run seed, step, sample id, copy, index), and the driver's whole
 * state (parameters, optimizer, step, data cursor) is checkpointed, so a resumed run continues
 * exactly as the uninterrupted one.
 */
public final class PerlTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(PerlTrainer.class);

  /** Runs validation on the current parameters; returns metrics to log under {@code val/}. */
  public interface Validation {
    Map<String, Object> run(long step, byte[] parameters);
  }

  /**
   * @param resume "auto" (newest valid checkpoint in the run's folder, else start fresh) or "never"
   * @param failRolloutOnce test-only fault injection "STEP:PARTITION" (null: off)
   * @param validation null: no validation
   */
  public record Options(String resume, String failRolloutOnce, Validation validation, boolean progressBar) {}

  /**
   * What a finished run leaves behind.
   *
   * @param resumedFrom the step of the checkpoint the run resumed from; 0 when it started fresh
   */
  public record Result(long steps, byte[] parameters, Path outputDir, long resumedFrom, long stepsUpdated) {}

  private final SparkSession spark;
  private final JavaSparkContext jsc;
  private final PerlConfig cfg;
  private final Options options;
  private final PolicyRuntime runtime;
  private final Path out;
  private final int partitions;
  /** Names this run's models in executors' caches, so that concurrent runs (a sweep) never share one. */
  private final String role = ExecutorPolicies.newRole("train");

  // The driver's state: everything a checkpoint holds.
  private PolicyModel policy;
  private AdamW adamW;
  private DriverOptimizer optimizer;
  private long globalStep;
  private int stageIndex;
  private long stageStep;
  private Map<String, String> cursorState;
  private MetricsLog rolloutLog;
  private long resumedFrom;
  /** Steps of this run (resumed ones included) that applied at least one update. */
  private long stepsUpdated;

  public PerlTrainer(SparkSession spark, PerlConfig cfg, Options options) {
    this.spark = spark;
    this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    this.cfg = cfg;
    this.options = options;
    this.runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    this.out = Path.of(cfg.run().outputDir());
    this.partitions = jsc.defaultParallelism();
  }

  public Result run() {
    List<StageConfig> stages = cfg.requireStages();
    long totalSteps = 0;
    for (StageConfig s : stages) {
      totalSteps += stageSteps(s);
    }
    byte[] initial = InitialParameters.load(cfg.model().init(), runtime, jsc.hadoopConfiguration());
    policy = runtime.build();
    policy.loadParameters(initial);
    adamW = new AdamW(cfg.trainer().beta1(), cfg.trainer().beta2(), cfg.trainer().eps(), cfg.trainer().weightDecay());
    optimizer = new DriverOptimizer(policy.flatParameters(), adamW, Pieces.schedule(cfg.trainer(), totalSteps),
        cfg.trainer().gradClip());
    Broadcast<byte[]> reference = cfg.algorithm().klCoef() > 0 ? jsc.broadcast(initial) : null;

    try (CheckpointStore store = new CheckpointStore(out.resolve("checkpoints").toString(), jsc.hadoopConfiguration())) {
      resume(store);
      try (MetricsLog metrics = MetricsLog.open(out.resolve("metrics.jsonl"), globalStep);
          MetricsLog samples = MetricsLog.open(out.resolve("rollouts.jsonl"), globalStep);
          ProgressBar bar = Progress.bar("train", totalSteps, globalStep, options.progressBar())) {
        rolloutLog = samples;
        for (; stageIndex < stages.size(); stageIndex++) {
          runStage(stages.get(stageIndex), reference, store, metrics, samples, bar, totalSteps);
          stageStep = 0;
          cursorState = null;
        }
      }
      if (store.steps().isEmpty() || store.steps().get(store.steps().size() - 1) != globalStep) {
        save(store);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (reference != null) {
        reference.destroy();
      }
    }
    byte[] finalParams = policy.parametersToBytes();
    policy.close();
    return new Result(globalStep, finalParams, out, resumedFrom, stepsUpdated);
  }

  private void runStage(StageConfig stage, Broadcast<byte[]> reference, CheckpointStore store, MetricsLog metrics,
      MetricsLog samples, ProgressBar bar, long totalSteps) {
    long steps = stageSteps(stage);
    Permuter permuter = Pieces.permuter(stage.effectivePermutation(cfg), cfg.run().seed(), stageIndex);
    StageData data = StageData.load(spark, stage, partitions, permuter.config().slots());
    warnIfPermutationCannotApply(stage, data.eligibility(), permuter);
    PromptCursor cursor = new PromptCursor(Seeds.derive(cfg.run().seed(), 0xc0_0000L + stageIndex), data.ids(),
        data.weights());
    if (cursorState != null) {
      cursor.restore(cursorState);
    }
    if (cursor.remainingThisStep() < cfg.trainer().promptBatch()) {
      throw new io.perlspark.jobs.PerlUserException("stages[" + stageIndex + "] (" + stage.name() + ") has "
          + cursor.remainingThisStep() + " prompts, fewer than trainer.promptBatch = " + cfg.trainer().promptBatch());
    }
    FilterConfig filter = stage.effectiveFilter(cfg);
    GroupFilter groupFilter = Pieces.onlineFilter(filter.online());
    int maxRounds = filter.online().enabled() ? filter.online().maxFillAttempts() : 1;
    RolloutConfig rollout = stage.effectiveRollout(cfg);
    try {
      while (stageStep < steps) {
        Map<String, Object> m = step(stage, data, cursor, permuter, groupFilter, maxRounds, rollout, reference, steps);
        cursorState = cursor.state();
        globalStep++;
        stageStep++;
        if (options.validation() != null && cfg.trainer().evalEvery() > 0
            && (globalStep % cfg.trainer().evalEvery() == 0 || globalStep == totalSteps)) {
          long t0 = System.nanoTime();
          Map<String, Object> val = options.validation().run(globalStep, policy.parametersToBytes());
          val.forEach((k, v) -> m.put("val/" + k, v));
          m.put("t_validation", seconds(t0));
        }
        metrics.write(m);
        bar.stepTo(globalStep);
        bar.setExtraMessage(String.format(" reward %.3f acc %.3f", (double) m.get("reward_mean"), (double) m.get("accuracy_mean")));
        if (globalStep % cfg.trainer().checkpointEvery() == 0) {
          save(store);
        }
      }
    } finally {
      data.close();
    }
  }

  /** One training step; returns its metrics. */
  private Map<String, Object> step(StageConfig stage, StageData data, PromptCursor cursor, Permuter permuter,
      GroupFilter groupFilter, int maxRounds, RolloutConfig rollout, Broadcast<byte[]> reference, long stageSteps) {
    long tStep = System.nanoTime();
    Timers t = new Timers();
    LongAccumulator rolloutCompute = jsc.sc().longAccumulator("rollout compute ns");
    LongAccumulator gradientCompute = jsc.sc().longAccumulator("gradient compute ns");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("step", globalStep + 1);
    m.put("stage", stage.name());

    // 1. The policy the rollouts sample from, broadcast once per step.
    long t0 = System.nanoTime();
    Broadcast<byte[]> theta = jsc.broadcast(policy.parametersToBytes());
    String thetaVersion = "step" + globalStep;
    t.add("broadcast", t0);
    RolloutWorker worker = new RolloutWorker(new RolloutWorker.Context(runtime, role, thetaVersion, theta, "reference", reference,
        rollout.n(), (float) rollout.temperature(), (float) rollout.topP(), rollout.maxNewTokens(), cfg.run().seed(),
        globalStep, Pieces.reward(cfg.reward()), options.failRolloutOnce(), rolloutCompute));
    PermutationTransform permute = new PermutationTransform(permuter);

    // 2-3. Draw prompts, permute, roll out, score; drop zero-variance groups and refill. The
    // prompts keep the stage data's partitioning (no shuffle); each round's rollouts stay cached
    // for the update.
    List<Dataset<Row>> rounds = new ArrayList<>();
    int[] drawnKept = {0, 0};
    int[] eligibleCopies = {0, 0};
    cursor.startStep();
    BatchFiller.FillResult<GroupHandle> fill = BatchFiller.fill(cfg.trainer().promptBatch(), maxRounds, (round, wanted) -> {
      long tp = System.nanoTime();
      // A refill round over-draws by the keep rate seen so far, so one refill usually suffices.
      int draw = Math.min(cursor.remainingThisStep(), round == 0 ? wanted
          : (int) Math.ceil(wanted / Math.max(0.25, drawnKept[1] / (double) Math.max(1, drawnKept[0]))));
      if (draw == 0) {
        return List.of(); // every prompt of the stage was drawn in this step
      }
      List<String> drawn = cursor.next(draw);
      drawn.forEach(id -> eligibleCopies[0] += data.eligibility().permutable().contains(id) ? 1 : 0);
      Dataset<Row> permuted = permute.transform(spark, data.select(drawn), stageStep, stageSteps);
      t.add("permute", tp);
      long tr = System.nanoTime();
      JavaRDD<Row> rows = permuted.javaRDD().mapPartitions(worker::apply);
      Dataset<Row> rollouts = spark.createDataFrame(rows, RolloutSchema.SCHEMA).persist(StorageLevel.MEMORY_ONLY());
      List<Row> infoRows = rollouts.select(RolloutInfo.COLUMNS[0], java.util.Arrays.copyOfRange(RolloutInfo.COLUMNS, 1,
          RolloutInfo.COLUMNS.length)).collectAsList();
      rounds.add(rollouts);
      t.add("rollout", tr);
      long tf = System.nanoTime();
      List<GroupHandle> groups = groups(infoRows, round);
      drawnKept[0] += groups.size();
      eligibleCopies[1] += permutedCopies(groups);
      for (GroupHandle g : groups) {
        drawnKept[1] += groupFilter.decide(g.stats()).kept() ? 1 : 0;
      }
      t.add("filter", tf);
      return groups;
    }, h -> groupFilter.decide(h.stats()));
    long tf = System.nanoTime();
    List<GroupHandle> kept = new ArrayList<>(fill.kept());
    kept.sort((a, b) -> a.groupId().compareTo(b.groupId()));
    JavaRDD<Row> train = rounds.get(0).javaRDD();
    for (int i = 1; i < rounds.size(); i++) {
      train = train.union(rounds.get(i).javaRDD());
    }

    // 4. Advantages, per group, in double precision.
    AdvantageEstimator estimator = AdvantageEstimator.parse(cfg.algorithm().advantage());
    Map<String, Double> advantages = new HashMap<>();
    for (GroupHandle g : kept) {
      double[] rewards = new double[g.rollouts().size()];
      for (int i = 0; i < rewards.length; i++) {
        rewards[i] = g.rollouts().get(i).reward();
      }
      double[] a = GroupAdvantages.compute(rewards, estimator.scaleByStd());
      for (int i = 0; i < a.length; i++) {
        advantages.put(g.rollouts().get(i).key(), a[i]);
      }
    }
    t.add("filter", tf);

    // 5. Updates: mini-batches of groups; gradients on executors, summed here, AdamW, broadcast.
    GrpoLossConfig loss = Pieces.loss(cfg.algorithm());
    UpdateStats updates = new UpdateStats();
    int miniBatch = cfg.trainer().miniBatch();
    for (int epoch = 0; epoch < cfg.algorithm().ppoEpochs(); epoch++) {
      List<GroupHandle> order = new ArrayList<>(kept);
      Collections.shuffle(order, new java.util.Random(Seeds.derive(cfg.run().seed(), globalStep, 0xb47c_0000L + epoch)));
      for (int start = 0, mb = 0; start < order.size(); start += miniBatch, mb++) {
        List<GroupHandle> chunk = order.subList(start, Math.min(order.size(), start + miniBatch));
        Set<String> groups = new HashSet<>();
        List<int[]> lengths = new ArrayList<>();
        for (GroupHandle g : chunk) {
          groups.add(g.groupId());
          for (RolloutInfo r : g.rollouts()) {
            lengths.add(new int[r.length()]);
          }
        }
        double normaliser = GradientWorker.tokenNormaliser(lengths, loss.aggregation());
        long tb = System.nanoTime();
        boolean fresh = epoch == 0 && mb == 0;
        Broadcast<byte[]> params = fresh ? theta : jsc.broadcast(policy.parametersToBytes());
        String version = fresh ? thetaVersion : thetaVersion + ".e" + epoch + ".m" + mb;
        t.add("broadcast", tb);
        long tg = System.nanoTime();
        GradientResult grad = GradientStage.grpo(jsc, train, runtime, role, version, params, groups, advantages, loss,
            normaliser, cfg.trainer().microBatch(), (float) rollout.temperature(), gradientCompute);
        t.add("gradient", tg);
        long ts = System.nanoTime();
        StepReport report = optimizer.step(grad.gradient());
        optimizer.requireProgress();
        policy.setFlatParameters(optimizer.params());
        t.add("step", ts);
        updates.add(grad, report);
        if (!fresh) {
          params.destroy();
        }
      }
    }
    theta.destroy();
    for (Dataset<Row> r : rounds) {
      r.unpersist();
    }

    // 6. Metrics, and a few rollouts to read.
    StepMetrics.rollouts(m, fill, kept);
    logRollouts(kept);
    updates.into(m);
    m.put("perm_eligible", eligibleCopies[0]);
    m.put("perm_copies", eligibleCopies[1]);
    if (permuter.config().copies() > 0) {
      m.put("perm_probability", permuter.config().schedule().probability(stageStep, stageSteps));
    }
    if (kept.isEmpty()) {
      // Every group drawn was dropped: this step changed nothing. Said, not hidden in an average.
      m.put("no_update", true);
      LOG.warn("step {}: no update: all {} groups drawn ({} prompts) were dropped by the online filter{}", globalStep + 1,
          fill.groupsDrawn(), drawnKept[0], fill.dropReasons().isEmpty() ? "" : " " + fill.dropReasons());
    } else {
      stepsUpdated++;
    }
    t.into(m);
    m.put("t_total", seconds(tStep));
    // Model compute inside executor tasks (summed over tasks; tasks of one stage run side by side).
    m.put("compute_rollout_task_s", rolloutCompute.value() / 1e9);
    m.put("compute_gradient_task_s", gradientCompute.value() / 1e9);
    m.put("tokens_per_s", ((Number) m.get("response_tokens")).doubleValue() / Math.max(1e-9, (double) m.get("t_rollout")));
    return m;
  }

  /** Permuted copies among the groups' responses (copy 0 is the original). */
  private static int permutedCopies(List<GroupHandle> groups) {
    int copies = 0;
    for (GroupHandle g : groups) {
      copies += (int) g.rollouts().stream().filter(r -> r.copy() > 0).map(RolloutInfo::id).distinct().count();
    }
    return copies;
  }

  /** Data-dependent: said at the start of the stage, with counts (the config alone cannot know). */
  private void warnIfPermutationCannotApply(StageConfig stage, StageData.Eligibility e, Permuter permuter) {
    if (permuter.config().copies() == 0) {
      return;
    }
    if (e.permutable().isEmpty()) {
      LOG.warn("stage {} ({}): permutation is on, but {}: groups hold only the original's responses", stageIndex,
          stage.name(), e.describe());
    } else {
      LOG.info("stage {} ({}): {}", stageIndex, stage.name(), e.describe());
    }
  }

  private void logRollouts(List<GroupHandle> kept) {
    int left = cfg.trainer().logRolloutsPerStep();
    for (GroupHandle g : kept) {
      for (RolloutInfo r : g.rollouts()) {
        if (left-- <= 0) {
          return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", globalStep + 1);
        line.put("group", r.groupId());
        line.put("id", r.id());
        line.put("prompt", r.problem());
        line.put("answer", r.answer());
        line.put("response", r.text());
        line.put("reward", r.reward());
        line.put("accuracy", r.accuracy());
        rolloutLog.write(line);
      }
    }
  }

  /** Groups the collected rollout rows by group id, rollouts ordered by (copy id, index). */
  private static List<GroupHandle> groups(List<Row> rows, int round) {
    Map<String, List<RolloutInfo>> byGroup = new TreeMap<>();
    for (Row r : rows) {
      RolloutInfo info = RolloutInfo.of(r);
      byGroup.computeIfAbsent(info.groupId(), k -> new ArrayList<>()).add(info);
    }
    List<GroupHandle> out = new ArrayList<>(byGroup.size());
    for (Map.Entry<String, List<RolloutInfo>> e : byGroup.entrySet()) {
      e.getValue().sort((a, b) -> a.id().equals(b.id()) ? Integer.compare(a.idx(), b.idx()) : a.id().compareTo(b.id()));
      out.add(GroupHandle.of(e.getKey(), round, e.getValue()));
    }
    return out;
  }

  private long stageSteps(StageConfig s) {
    if (s.steps() != null) {
      return s.steps();
    }
    long prompts = StageData.count(spark, s);
    return Math.max(1, (long) Math.ceil(s.epochs() * prompts / cfg.trainer().promptBatch()));
  }

  // ---- checkpoints ------------------------------------------------------------------------------

  private void save(CheckpointStore store) {
    Map<String, String> state = new LinkedHashMap<>();
    state.put("globalStep", Long.toString(globalStep));
    state.put("stageIndex", Integer.toString(stageIndex));
    state.put("stageStep", Long.toString(stageStep));
    state.put("optimizerStep", Long.toString(optimizer.steps()));
    state.put("stepsUpdated", Long.toString(stepsUpdated));
    if (cursorState != null) {
      cursorState.forEach((k, v) -> state.put("cursor." + k, v));
    }
    try {
      store.save(new Checkpoint(globalStep, policy.parametersToBytes(), adamW.state(), state,
          RunProvenance.of(cfg, ConfigLoader.toYaml(cfg), jsc.hadoopConfiguration(), runtime.recipe())));
      store.keepLast(cfg.trainer().keepCheckpoints());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint of step " + globalStep, e);
    }
  }

  private void resume(CheckpointStore store) throws IOException {
    if (!"auto".equals(options.resume())) {
      return;
    }
    var latest = store.loadLatestValid();
    if (latest.isEmpty()) {
      refuseIfAllDamaged(store);
      return;
    }
    Checkpoint c = latest.get();
    RunProvenance.checkSameBase(c, runtime.recipe(), "--resume auto (" + store.base() + ")",
        "Point model.path at that base, or start over with --resume never or another run.outputDir.");
    resumedFrom = c.step();
    Map<String, String> s = c.trainerState();
    policy.loadParameters(c.parameters());
    optimizer.restore(policy.flatParameters(), c.optimizerState(), Long.parseLong(s.get("optimizerStep")));
    globalStep = Long.parseLong(s.get("globalStep"));
    stageIndex = Integer.parseInt(s.get("stageIndex"));
    stageStep = Long.parseLong(s.get("stageStep"));
    stepsUpdated = Long.parseLong(s.getOrDefault("stepsUpdated", Long.toString(globalStep)));
    Map<String, String> cursor = new HashMap<>();
    s.forEach((k, v) -> {
      if (k.startsWith("cursor.")) {
        cursor.put(k.substring(7), v);
      }
    });
    cursorState = cursor.isEmpty() ? null : cursor;
    LOG.info("resumed from checkpoint of step {} (stage {}, stage step {})", globalStep, stageIndex, stageStep);
  }

  /**
   * Checkpoints that exist but of which none verifies are not a fresh start: starting over would
   * overwrite them and the run's metrics without a word. The user decides (--resume never).
   */
  private static void refuseIfAllDamaged(CheckpointStore store) throws IOException {
    List<Long> steps = store.steps();
    if (steps.isEmpty()) {
      return;
    }
    String newest;
    try {
      store.load(steps.get(steps.size() - 1));
      newest = "it verified on a second read; try again";
    } catch (CheckpointException e) {
      newest = e.getMessage();
    }
    throw new io.perlspark.jobs.PerlUserException("--resume auto: none of the " + steps.size() + " checkpoint"
        + (steps.size() == 1 ? "" : "s") + " in " + store.base() + " verifies (newest: " + newest
        + "). Move the damaged ones away, or start over with --resume never");
  }

  static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Time per phase within one step. */
  static final class Timers {
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    Timers() {
      for (String p : List.of("permute", "broadcast", "rollout", "filter", "gradient", "step")) {
        seconds.put(p, 0.0);
      }
    }

    void add(String phase, long t0) {
      seconds.merge(phase, PerlTrainer.seconds(t0), Double::sum);
    }

    void into(Map<String, Object> m) {
      seconds.forEach((k, v) -> m.put("t_" + k, v));
    }
  }
}
