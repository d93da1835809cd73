package io.perlspark.jobs.filter;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.Seeds;
import io.perlspark.common.config.OfflineFilterConfig;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.permute.DecaySchedule;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.reward.ResponseFormat;
import io.perlspark.common.reward.Rewards;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.rollout.RolloutSchema;
import io.perlspark.jobs.rollout.RolloutWorker;
import io.perlspark.jobs.spark.AtomicOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code perl filter}: the offline difficulty filter (docs/ARCHITECTURE.md "The method"). The policy answers every prompt
 * m times; prompts whose pass rate lies outside the configured band (by default: answered always or
 * never) are removed. Writes the kept prompts ({@code data/}), every prompt's pass rate
 * ({@code pass_rates/}) and a summary.
 */
public final class DifficultyFilterJob {
  private DifficultyFilterJob() {}

  /** Counts of one run. */
  public record Summary(long prompts, long kept, long tooEasy, long tooHard) {}

  public static Summary run(SparkSession spark, PerlConfig cfg, byte[] parameters, String input, String output,
      boolean overwrite) {
    OfflineFilterConfig f = cfg.filter().offline();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    AtomicOutput out = AtomicOutput.begin(output, overwrite, jsc.hadoopConfiguration());
    Broadcast<byte[]> params = jsc.broadcast(parameters);
    try {
      Dataset<Row> prompts = spark.read().parquet(input).select(SampleSchema.columns()).persist(StorageLevel.MEMORY_AND_DISK());
      // No permuted copies: the transform only adds the group columns the rollout stage expects.
      Permuter identity = Permuter.builder().setSeed(cfg.run().seed()).optCopies(0)
          .optSchedule(DecaySchedule.constant(0)).build();
      Dataset<Row> groups = new PermutationTransform(identity).transform(spark, prompts, 0, 1)
          .repartition(jsc.defaultParallelism());
      RolloutWorker worker = new RolloutWorker(new RolloutWorker.Context(runtime, ExecutorModelCache.newRole("filter"), "filter", params, null, null,
          f.rollouts(), (float) cfg.rollout().temperature(), (float) cfg.rollout().topP(), cfg.rollout().maxNewTokens(),
          cfg.rollout().generationBatch(), cfg.rollout().scoringBatch(),
          Seeds.derive(cfg.run().seed(), Seeds.hash("perl.filter")), 0,
          Rewards.standard(cfg.reward().accuracyWeight(), cfg.reward().formatWeight(), ResponseFormat.parse(cfg.reward().format())),
          null, null));
      Dataset<Row> rollouts = spark.createDataFrame(groups.javaRDD().mapPartitions(worker::apply), RolloutSchema.SCHEMA);
      Dataset<Row> rates = rollouts.groupBy("id").agg(avg("accuracy").as("pass_rate"), sum("accuracy").as("correct"),
          count("*").as("attempts"));
      Column keep = f.inclusive()
          ? col("pass_rate").geq(f.minAcc()).and(col("pass_rate").leq(f.maxAcc()))
          : col("pass_rate").gt(f.minAcc()).and(col("pass_rate").lt(f.maxAcc()));
      Dataset<Row> judged = rates.withColumn("kept", keep).persist(StorageLevel.MEMORY_AND_DISK());
      judged.orderBy("id").write().parquet(out.staged("pass_rates"));
      prompts.join(judged.filter(col("kept")).select("id"), "id").select(SampleSchema.columns())
          .write().parquet(out.staged("data"));
      Summary s = new Summary(judged.count(), judged.filter(col("kept")).count(),
          judged.filter(col("kept").equalTo(false).and(col("pass_rate").geq(f.maxAcc()))).count(),
          judged.filter(col("kept").equalTo(false).and(col("pass_rate").leq(f.minAcc()))).count());
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("input", input);
      json.put("rollouts_per_prompt", f.rollouts());
      json.put("band", (f.inclusive() ? "[" : "(") + f.minAcc() + ", " + f.maxAcc() + (f.inclusive() ? "]" : ")"));
      json.put("prompts", s.prompts());
      json.put("kept", s.kept());
      json.put("too_easy", s.tooEasy());
      json.put("too_hard", s.tooHard());
      out.writeStagedText("summary.json", new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
      judged.unpersist();
      prompts.unpersist();
      out.commit();
      return s;
    } catch (IOException e) {
      out.abort();
      throw new UncheckedIOException(e);
    } catch (Throwable e) {
      // Throwable: a failed Spark job throws SparkException, which is no RuntimeException.
      out.abort();
      throw e;
    } finally {
      params.destroy();
    }
  }
}
