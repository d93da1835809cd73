package io.perlspark.jobs.train;

import io.perlspark.common.Seeds;
import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.CheckpointStore;
import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.LrSchedule;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.train.GradientResult;
import io.perlspark.model.train.PolicyUpdater;
import io.perlspark.model.train.StepReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code perl sft}: the supervised warm start, data-parallel like train's update — executors compute
 * the cross-entropy gradient of the response tokens on their share of a batch, the driver sums them
 * in partition order, clips and steps AdamW. Writes checkpoints that {@code model.init} can name.
 */
public final class SftTrainer {
  /** SFT settings (the run config supplies the model, seed, AdamW betas and clip). */
  public record Options(String data, String outputDir, int steps, int batch, double lr, int warmupSteps,
      int checkpointEvery, boolean progressBar) {}

  private final SparkSession spark;
  private final JavaSparkContext jsc;
  private final PerlConfig cfg;
  private final Options o;
  private final PolicyRuntime runtime;
  private final String role = io.perlspark.jobs.executor.ExecutorModelCache.newRole("sft");

  public SftTrainer(SparkSession spark, PerlConfig cfg, Options o) {
    this.spark = spark;
    this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    this.cfg = cfg;
    this.o = o;
    this.runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
  }

  /** Runs SFT; returns the final parameters. */
  public byte[] run() {
    int partitions = jsc.defaultParallelism();
    StageConfig stage = StageConfig.ofSteps("sft", o.steps(), List.of(new DataSource(o.data(), 1.0)));
    byte[] initial = InitialParameters.load(cfg.model().init(), runtime, jsc.hadoopConfiguration());
    Path out = Path.of(o.outputDir());
    try (PolicyModel policy = runtime.build();
        StageData data = StageData.load(spark, stage, partitions);
        CheckpointStore store = new CheckpointStore(out.resolve("checkpoints").toString(), jsc.hadoopConfiguration());
        MetricsLog metrics = MetricsLog.open(out.resolve("metrics.jsonl"), 0);
        ProgressBar bar = Progress.bar("sft", o.steps(), 0, o.progressBar())) {
      policy.loadParameters(initial);
      AdamW adamW = new AdamW(cfg.trainer().beta1(), cfg.trainer().beta2(), cfg.trainer().eps(), cfg.trainer().weightDecay());
      PolicyUpdater updater = PolicyUpdater.create(policy, adamW,
          LrSchedule.warmupCosine(o.lr(), o.warmupSteps(), o.steps(), 0.1), cfg.trainer().gradClip());
      PromptCursor cursor = new PromptCursor(Seeds.derive(cfg.run().seed(), 0x5f7_0000L), data.ids(), data.weights());
      TextTokenizer tokenizer = policy.tokenizer();
      for (int step = 0; step < o.steps(); step++) {
        long t0 = System.nanoTime();
        cursor.startStep();
        GradientResult g;
        StepReport report;
        try (StepResources resources = new StepResources(jsc)) {
          Dataset<Row> batch = resources.cache(data.select(cursor.next(o.batch()))
              .repartition(partitions, org.apache.spark.sql.functions.col("id")));
          long tokens = 0;
          for (Row r : batch.select("response").collectAsList()) {
            tokens += SftTargets.tokens(tokenizer, r.<String>getAs("response")).length;
          }
          Broadcast<byte[]> params = resources.broadcast(policy.parametersToBytes());
          g = GradientStage.sft(batch.javaRDD(), runtime, role, "sft" + step, params, tokens,
              cfg.trainer().microBatch());
          report = updater.apply(g.gradient());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step + 1);
        m.put("loss", g.loss());
        m.put("tokens", g.tokens());
        m.put("lr", report.lr());
        m.put("grad_norm", report.gradNorm());
        m.put("t_total", StepTimings.secondsSince(t0));
        metrics.write(m);
        bar.stepTo(step + 1);
        bar.setExtraMessage(String.format(" loss %.3f", g.loss()));
        if ((step + 1) % o.checkpointEvery() == 0 || step + 1 == o.steps()) {
          Map<String, String> state = new LinkedHashMap<>(cursor.state());
          state.put("globalStep", Integer.toString(step + 1));
          store.save(new Checkpoint(step + 1, policy.parametersToBytes(), adamW.state(), state,
              RunProvenance.of(cfg.withStages(List.of(stage)), ConfigLoader.toYaml(cfg), jsc.hadoopConfiguration(),
                  runtime.recipe())));
          store.keepLast(cfg.trainer().keepCheckpoints());
        }
      }
      return policy.parametersToBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
