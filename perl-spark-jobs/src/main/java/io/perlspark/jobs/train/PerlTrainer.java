package io.perlspark.jobs.train;

import io.perlspark.common.Seeds;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.FilterConfig;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.RolloutConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.rl.AdvantageEstimator;
import io.perlspark.common.rl.GroupAdvantages;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.rollout.RolloutWorker;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.CheckpointException;
import io.perlspark.model.checkpoint.CheckpointStore;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.GradientWorker;
import io.perlspark.model.train.PolicyUpdater;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PeRL training loop, driver-coordinated (docs/ARCHITECTURE.md "One training step"). One step
 * ({@link #step}) reads in the order of verl's {@code fit()}:
 *
 * <ol>
 *   <li>draw prompts (seeded cursor) and expand each into itself + k permuted copies (one group);
 *   <li>roll out n responses per copy on executors with the broadcast policy, score rewards there;
 *   <li>drop zero-variance groups and refill from more prompts (DAPO dynamic sampling) — steps 1–3
 *       are {@link RolloutRounds};
 *   <li>GRPO advantages per group;
 *   <li>per mini-batch: gradients on executors, summed on the driver, then {@code PolicyUpdater};
 *   <li>metrics; then checkpoint and validation in {@link #runStage}.
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
  private final String role = ExecutorModelCache.newRole("train");

  // The driver's state: everything a checkpoint holds.
  private PolicyModel policy;
  private AdamW adamW;
  /** The one update path (clip, AdamW, write back), over the policy's parameters. */
  private PolicyUpdater updater;
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
    updater = PolicyUpdater.create(policy, adamW, Pieces.schedule(cfg.trainer(), totalSteps), cfg.trainer().gradClip());
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
    try {
      warnIfPermutationCannotApply(stage, data.eligibility(), permuter);
      PromptCursor cursor = new PromptCursor(Seeds.derive(cfg.run().seed(), 0xc0_0000L + stageIndex), data.ids(),
          data.weights());
      if (cursorState != null) {
        cursor.restore(cursorState);
      }
      if (cursor.remainingThisStep() < cfg.trainer().promptBatch()) {
        throw new PerlUserException("stages[" + stageIndex + "] (" + stage.name() + ") has "
            + cursor.remainingThisStep() + " prompts, fewer than trainer.promptBatch = " + cfg.trainer().promptBatch());
      }
      FilterConfig filter = stage.effectiveFilter(cfg);
      int maxRounds = filter.online().enabled() ? filter.online().maxFillAttempts() : 1;
      StageRun run = new StageRun(stage, data, cursor, permuter, Pieces.onlineFilter(filter.online()), maxRounds,
          stage.effectiveRollout(cfg), steps);
      while (stageStep < steps) {
        Map<String, Object> m = step(run, reference);
        cursorState = cursor.state();
        globalStep++;
        stageStep++;
        if (options.validation() != null && cfg.trainer().evalEvery() > 0
            && (globalStep % cfg.trainer().evalEvery() == 0 || globalStep == totalSteps)) {
          long t0 = System.nanoTime();
          Map<String, Object> val = options.validation().run(globalStep, policy.parametersToBytes());
          val.forEach((k, v) -> m.put("val/" + k, v));
          m.put("t_validation", StepTimings.secondsSince(t0));
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

  /**
   * One training step, in verl's {@code fit()} order: draw → permute → roll out → filter/refill
   * (one {@link RolloutRounds}) → advantages → update → metrics. Each phase is timed by {@link
   * StepTimings}; the step's broadcasts and cached rollouts are released when it ends, also when it
   * fails.
   */
  private Map<String, Object> step(StageRun run, Broadcast<byte[]> reference) {
    StepTimings timings = new StepTimings(jsc.sc(), "perl train step " + (globalStep + 1));
    LongAccumulator rolloutCompute = jsc.sc().longAccumulator("rollout compute ns");
    LongAccumulator gradientCompute = jsc.sc().longAccumulator("gradient compute ns");
    RolloutRounds.Batch batch;
    UpdateStats updates;
    try (StepResources resources = new StepResources(jsc)) {
      // The policy the rollouts sample from, broadcast once per step.
      Broadcast<byte[]> theta = timings.time("broadcast", () -> resources.broadcast(policy.parametersToBytes()));
      String thetaVersion = "step" + globalStep;
      RolloutWorker worker = rolloutWorker(run.rollout(), thetaVersion, theta, reference, rolloutCompute);
      batch = new RolloutRounds(run, stageStep, worker, timings, resources).fill(cfg.trainer().promptBatch());
      Map<String, Double> advantages = timings.time("filter", () -> advantages(batch.kept()));
      updates = update(batch, advantages, theta, thetaVersion, (float) run.rollout().temperature(), timings, resources,
          gradientCompute);
    }
    if (!batch.kept().isEmpty()) {
      stepsUpdated++;
    }
    Map<String, Object> m = metrics(run, batch, updates);
    timings.into(m);
    // Model compute inside executor tasks (summed over tasks; tasks of one stage run side by side).
    m.put("compute_rollout_task_s", rolloutCompute.value() / 1e9);
    m.put("compute_gradient_task_s", gradientCompute.value() / 1e9);
    m.put("tokens_per_s", ((Number) m.get("response_tokens")).doubleValue() / Math.max(1e-9, timings.seconds("rollout")));
    return m;
  }

  private RolloutWorker rolloutWorker(RolloutConfig rollout, String thetaVersion, Broadcast<byte[]> theta,
      Broadcast<byte[]> reference, LongAccumulator computeNanos) {
    return new RolloutWorker(new RolloutWorker.Context(runtime, role, thetaVersion, theta, "reference", reference,
        rollout.n(), (float) rollout.temperature(), (float) rollout.topP(), rollout.maxNewTokens(),
        rollout.generationBatch(), rollout.scoringBatch(), cfg.run().seed(),
        globalStep, Pieces.reward(cfg.reward()), options.failRolloutOnce(), computeNanos));
  }

  /** Advantages: per group, in double precision, keyed by {@link RolloutInfo#key()}. */
  private Map<String, Double> advantages(List<GroupHandle> kept) {
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
    return advantages;
  }

  /**
   * Update: for each PPO epoch, the kept groups in a seeded order, cut into mini-batches; each
   * mini-batch's gradient is computed on executors and applied through the one update path. The
   * first update uses the rollouts' broadcast; later ones broadcast the parameters they start from.
   */
  private UpdateStats update(RolloutRounds.Batch batch, Map<String, Double> advantages, Broadcast<byte[]> theta,
      String thetaVersion, float temperature, StepTimings timings, StepResources resources, LongAccumulator computeNanos) {
    GrpoLossConfig loss = Pieces.loss(cfg.algorithm());
    UpdateStats updates = new UpdateStats();
    for (int epoch = 0; epoch < cfg.algorithm().ppoEpochs(); epoch++) {
      List<List<GroupHandle>> miniBatches = miniBatches(batch.kept(), epoch);
      for (int mb = 0; mb < miniBatches.size(); mb++) {
        Map<String, Double> mbAdvantages = new HashMap<>();
        Map<Integer, Integer> rolloutsPerPartition = new HashMap<>();
        List<int[]> lengths = new ArrayList<>();
        for (GroupHandle g : miniBatches.get(mb)) {
          for (RolloutInfo r : g.rollouts()) {
            mbAdvantages.put(r.key(), advantages.get(r.key()));
            rolloutsPerPartition.merge(r.partition(), 1, Integer::sum);
            lengths.add(new int[r.length()]);
          }
        }
        double normaliser = GradientWorker.tokenNormaliser(lengths, loss.aggregation());
        boolean fresh = epoch == 0 && mb == 0;
        Broadcast<byte[]> params = fresh ? theta
            : timings.time("broadcast", () -> resources.broadcast(policy.parametersToBytes()));
        String version = fresh ? thetaVersion : thetaVersion + ".e" + epoch + ".m" + mb;
        GradientResult grad = timings.time("gradient", () -> GradientStage.grpo(batch.rollouts(),
            largestFirst(rolloutsPerPartition), runtime, role, version, params, mbAdvantages, loss, normaliser,
            cfg.trainer().microBatch(), temperature, computeNanos));
        updates.add(grad, timings.time("step", () -> updater.apply(grad.gradient())));
        if (!fresh) {
          resources.release(params);
        }
      }
    }
    return updates;
  }

  /**
   * The partitions holding a mini-batch's rollouts, most rollouts first (ties: lower index first):
   * started in this order, the two slots' last tasks end close together.
   */
  static int[] largestFirst(Map<Integer, Integer> rolloutsPerPartition) {
    return rolloutsPerPartition.entrySet().stream()
        .sorted(Map.Entry.<Integer, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .mapToInt(Map.Entry::getKey).toArray();
  }

  /** The kept groups of one PPO epoch in their seeded order, cut into mini-batches of trainer.miniBatch groups. */
  private List<List<GroupHandle>> miniBatches(List<GroupHandle> kept, int epoch) {
    List<GroupHandle> order = new ArrayList<>(kept);
    Collections.shuffle(order, new java.util.Random(Seeds.derive(cfg.run().seed(), globalStep, 0xb47c_0000L + epoch)));
    int size = cfg.trainer().miniBatch();
    List<List<GroupHandle>> out = new ArrayList<>();
    for (int start = 0; start < order.size(); start += size) {
      out.add(order.subList(start, Math.min(order.size(), start + size)));
    }
    return out;
  }

  /** Metrics: the rollouts' and the updates' (the step adds the timings), and a few rollouts to read. */
  private Map<String, Object> metrics(StageRun run, RolloutRounds.Batch batch, UpdateStats updates) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("step", globalStep + 1);
    m.put("stage", run.stage().name());
    StepMetrics.rollouts(m, batch.fill(), batch.kept());
    logRollouts(batch.kept());
    updates.into(m);
    m.put("perm_eligible", batch.permutableDrawn());
    m.put("perm_copies", batch.permutedCopies());
    if (run.permuter().config().copies() > 0) {
      m.put("perm_probability", run.permuter().config().schedule().probability(stageStep, run.steps()));
    }
    if (batch.kept().isEmpty()) {
      // Every group drawn was dropped: this step changed nothing. Said, not hidden in an average.
      m.put("no_update", true);
      LOG.warn("step {}: no update: all {} groups drawn ({} prompts) were dropped by the online filter{}", globalStep + 1,
          batch.fill().groupsDrawn(), batch.promptsDrawn(),
          batch.fill().dropReasons().isEmpty() ? "" : " " + batch.fill().dropReasons());
    }
    return m;
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
    state.put("optimizerStep", Long.toString(updater.optimizer().steps()));
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
    updater.restore(c.optimizerState(), Long.parseLong(s.get("optimizerStep")));
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
    throw new PerlUserException("--resume auto: none of the " + steps.size() + " checkpoint"
        + (steps.size() == 1 ? "" : "s") + " in " + store.base() + " verifies (newest: " + newest
        + "). Move the damaged ones away, or start over with --resume never");
  }
}
