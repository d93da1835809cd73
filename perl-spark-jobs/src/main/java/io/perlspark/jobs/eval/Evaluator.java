package io.perlspark.jobs.eval;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.data.Sample;
import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalRecord;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.permute.PermutationEligibility;
import io.perlspark.common.permute.Permutations;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.permute.SlotSelection;
import io.perlspark.common.reward.AnswerNormalizer;
import io.perlspark.common.reward.RewardFunction;
import io.perlspark.common.reward.RewardResult;
import io.perlspark.common.reward.ResponseFormat;
import io.perlspark.common.reward.Rewards;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.rollout.PromptEncoding;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Scores a policy on eval splits, on executors: each sample under its original image order and up
 * to {@code permutationsPerSample - 1} other orders (seeded per sample), greedy decoding. Produces
 * accuracy per family, positional bias and permutation consistency ({@link EvalReport}).
 */
public final class Evaluator implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What to score and how. */
  public record Settings(int permutationsPerSample, Integer maxSamples, int samplesPerCall,
      int maxNewTokens, long seed, String slots, RewardFunction reward) implements Serializable {

    public static Settings from(PerlConfig cfg) {
      return new Settings(cfg.eval().permutationsPerSample(), cfg.eval().maxSamples(),
          cfg.eval().samplesPerCall(), cfg.rollout().maxNewTokens(),
          cfg.run().seed(), cfg.permutation().slots(),
          Rewards.standard(cfg.reward().accuracyWeight(), cfg.reward().formatWeight(),
              ResponseFormat.parse(cfg.reward().format())));
    }
  }

  private final PolicyRuntime runtime;
  private final Settings settings;
  private final String role = ExecutorModelCache.newRole("eval");

  public Evaluator(PolicyRuntime runtime, Settings settings) {
    this.runtime = runtime;
    this.settings = settings;
  }

  /** Evaluates {@code parameters} on the named splits (name → canonical Parquet path). */
  public EvalReport evaluate(SparkSession spark, byte[] parameters, String version, Map<String, String> splits) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<byte[]> params = jsc.broadcast(parameters);
    try {
      EvalAggregator total = new EvalAggregator();
      for (Map.Entry<String, String> split : splits.entrySet()) {
        Dataset<Row> rows = spark.read().parquet(split.getValue()).select(SampleSchema.columns());
        if (settings.maxSamples() != null) {
          rows = rows.orderBy("id").limit(settings.maxSamples());
        }
        String name = split.getKey();
        List<EvalAggregator> parts = rows.repartition(jsc.defaultParallelism()).javaRDD()
            .mapPartitions(it -> List.of(score(name, it, version, params)).iterator()).collect();
        for (EvalAggregator p : parts) {
          total.merge(p);
        }
      }
      return total.report();
    } finally {
      params.destroy();
    }
  }

  /** Records of one partition (kept for tests and for per-record dumps). */
  EvalAggregator score(String split, java.util.Iterator<Row> rows, String version, Broadcast<byte[]> params) {
    EvalAggregator agg = new EvalAggregator();
    List<Sample> pending = new ArrayList<>();
    try (ExecutorModelCache.Lease lease = ExecutorModelCache.lease(role, runtime, version, params)) {
      while (rows.hasNext()) {
        pending.add(SampleSchema.fromRow(rows.next()));
        if (pending.size() == settings.samplesPerCall()) {
          for (EvalRecord r : records(split, pending, lease.model(), lease.prompts())) {
            agg.add(r);
          }
          pending.clear();
        }
      }
      if (!pending.isEmpty()) {
        for (EvalRecord r : records(split, pending, lease.model(), lease.prompts())) {
          agg.add(r);
        }
      }
    }
    return agg;
  }

  List<EvalRecord> records(String split, List<Sample> samples, PolicyModel model, PromptProcessor prompts) {
    SlotSelection slots = SlotSelection.parse(settings.slots());
    List<Sample> originals = new ArrayList<>();
    List<int[]> orders = new ArrayList<>();
    List<Integer> permIndex = new ArrayList<>();
    List<PolicyInput> inputs = new ArrayList<>();
    for (Sample s : samples) {
      List<int[]> perms = PermutationEligibility.check(s, slots).isPermutable()
          ? Permutations.sample(s.imageCount(), slots.slotsFor(s.imageCount()), settings.permutationsPerSample(),
              settings.seed(), s.id())
          : List.of(Permutations.identity(s.imageCount()));
      for (int p = 0; p < perms.size(); p++) {
        originals.add(s);
        orders.add(perms.get(p));
        permIndex.add(p);
        inputs.add(PromptEncoding.encode(Permuter.apply(s, perms.get(p)), prompts));
      }
    }
    GenerationResult gen = model.generate(inputs, GenerationOptions.builder().optTemperature(0f)
        .optMaxNewTokens(settings.maxNewTokens()).setSeeds(new long[inputs.size()]).build());
    List<EvalRecord> out = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      Sample original = originals.get(i);
      Sample shown = Permuter.apply(original, orders.get(i));
      String text = model.tokenizer().decode(gen.withoutEos(i));
      RewardResult r = settings.reward().score(text, shown);
      String canonical = r.extractedAnswer() == null ? null
          : AnswerNormalizer.canonical(r.extractedAnswer(), original.answerKind()).orElse(null);
      out.add(EvalRecord.of(split, original, permIndex.get(i), orders.get(i), canonical, r.accuracy() >= 1.0,
          r.format() >= 1.0, gen.tokens()[i].length));
    }
    return out;
  }

  /** Split name → path, from the paths' last folder names (made unique). */
  public static Map<String, String> splits(List<String> paths) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String p : paths) {
      String name = new org.apache.hadoop.fs.Path(p).getName();
      String unique = name;
      for (int i = 2; m.containsKey(unique); i++) {
        unique = name + "-" + i;
      }
      m.put(unique, p);
    }
    return m;
  }
}
