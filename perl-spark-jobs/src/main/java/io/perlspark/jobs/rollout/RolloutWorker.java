package io.perlspark.jobs.rollout;

import io.perlspark.common.Seeds;
import io.perlspark.common.data.Sample;
import io.perlspark.common.reward.RewardFunction;
import io.perlspark.common.reward.RewardResult;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.executor.ExecutorModelCache;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.model.policy.BatchedCalls;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.TokenScores;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.util.LongAccumulator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The rollout stage on an executor: for each (permuted) prompt, samples n responses with the
 * broadcast policy, records their log-probs under the policy and the frozen reference, and scores
 * them. Response i of prompt copy c draws from the seed (run seed, step, sample id, copy, i), so a
 * retried task, or any partitioning, reproduces the same responses.
 */
public final class RolloutWorker implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Everything the stage needs, shipped once per task. */
  public record Context(
      PolicyRuntime runtime,
      String role,
      String policyVersion,
      Broadcast<byte[]> policy,
      String referenceVersion,
      Broadcast<byte[]> reference,
      int n,
      float temperature,
      float topP,
      int maxNewTokens,
      int generationBatch,
      int scoringBatch,
      long seed,
      long step,
      RewardFunction reward,
      String failOnce,
      LongAccumulator computeNanos)
      implements Serializable {

    /** Prompts per chunk: whole prompts, as many as generationBatch holds, at least one. */
    public int promptsPerCall() {
      return Math.max(1, generationBatch / n);
    }
  }

  private final Context ctx;

  public RolloutWorker(Context ctx) {
    this.ctx = ctx;
  }

  /** Prompt rows per generation chunk: a task that gets exactly one chunk's rows makes the same calls. */
  public int promptsPerCall() {
    return ctx.promptsPerCall();
  }

  /** Rolls out a partition of prompt rows ({@code PermutationTransform.SCHEMA}) into {@link RolloutSchema} rows. */
  public Iterator<Row> apply(Iterator<Row> prompts) {
    List<Row> out = new ArrayList<>();
    for (Rollout r : records(prompts)) {
      out.add(toRow(r));
    }
    return out.iterator();
  }

  /** As {@link #apply}, as {@link Rollout} records in one array: what the trainer caches per task. */
  public Rollout[] records(Iterator<Row> prompts) {
    maybeFailForTest();
    List<Rollout> out = new ArrayList<>();
    int promptsPerCall = ctx.promptsPerCall();
    List<Row> chunk = new ArrayList<>(promptsPerCall);
    while (prompts.hasNext()) {
      chunk.add(prompts.next());
      if (chunk.size() == promptsPerCall) {
        rollout(chunk, out);
        chunk.clear();
      }
    }
    if (!chunk.isEmpty()) {
      rollout(chunk, out);
    }
    return out.toArray(new Rollout[0]);
  }

  private void rollout(List<Row> rows, List<Rollout> out) {
    long t0 = System.nanoTime();
    List<Sample> samples = new ArrayList<>(rows.size());
    List<PolicyInput> inputs = new ArrayList<>(rows.size() * ctx.n());
    long[] seeds = new long[rows.size() * ctx.n()];
    try (ExecutorModelCache.Lease policy = ExecutorModelCache.lease(ctx.role() + "/policy", ctx.runtime(), ctx.policyVersion(), ctx.policy())) {
      PolicyModel model = policy.model();
      for (int r = 0; r < rows.size(); r++) {
        Row row = rows.get(r);
        Sample s = SampleSchema.fromRow(row);
        samples.add(s);
        PolicyInput input = PromptEncoding.encode(s, policy.prompts());
        int copy = row.getInt(row.fieldIndex("copy"));
        for (int i = 0; i < ctx.n(); i++) {
          inputs.add(input);
          seeds[r * ctx.n() + i] = Seeds.derive(ctx.seed(), ctx.step(), s.id(), copy, i);
        }
      }
      GenerationOptions opts = GenerationOptions.builder().optTemperature(ctx.temperature()).optTopP(ctx.topP())
          .optMaxNewTokens(ctx.maxNewTokens()).setSeeds(seeds).build();
      // more than generationBatch only when n alone is: then the prompt's responses are split
      GenerationResult gen = BatchedCalls.generate(model, inputs, opts, ctx.generationBatch());
      float[][] refLogp = null;
      if (ctx.reference() != null) {
        try (ExecutorModelCache.Lease ref = ExecutorModelCache.lease(ctx.role() + "/reference", ctx.runtime(), ctx.referenceVersion(),
            ctx.reference())) {
          TokenScores scores = BatchedCalls.score(ref.model(), inputs, gen.tokens(), ctx.temperature(),
              false, ctx.scoringBatch());
          refLogp = scores.logProbs();
        }
      }
      for (int r = 0; r < rows.size(); r++) {
        Row row = rows.get(r);
        Sample s = samples.get(r);
        for (int i = 0; i < ctx.n(); i++) {
          int k = r * ctx.n() + i;
          String text = model.tokenizer().decode(gen.withoutEos(k));
          RewardResult reward = ctx.reward().score(text, s);
          out.add(new Rollout(row, i, gen.tokens()[k], gen.logProbs()[k], refLogp == null ? null : refLogp[k],
              gen.finished()[k], text, reward.extractedAnswer(), reward.total(), reward.accuracy(), reward.format()));
        }
      }
    }
    if (ctx.computeNanos() != null) {
      ctx.computeNanos().add(System.nanoTime() - t0);
    }
  }

  private static Row toRow(Rollout r) {
    Object[] v = new Object[RolloutSchema.SCHEMA.fields().length];
    Row prompt = r.prompt();
    int n = prompt.length();
    for (int i = 0; i < n; i++) {
      v[i] = prompt.get(i);
    }
    v[n] = r.idx();
    v[n + 1] = seq(r.tokens());
    v[n + 2] = seq(r.oldLogp());
    v[n + 3] = r.refLogp() == null ? null : seq(r.refLogp());
    v[n + 4] = r.finished();
    v[n + 5] = r.tokens().length;
    v[n + 6] = r.text();
    v[n + 7] = r.extracted();
    v[n + 8] = r.reward();
    v[n + 9] = r.accuracy();
    v[n + 10] = r.format();
    return new GenericRowWithSchema(v, RolloutSchema.SCHEMA);
  }

  static scala.collection.immutable.Seq<Integer> seq(int[] a) {
    List<Integer> l = new ArrayList<>(a.length);
    for (int x : a) {
      l.add(x);
    }
    return CollectionConverters.asScala(l).toSeq();
  }

  static scala.collection.immutable.Seq<Float> seq(float[] a) {
    List<Float> l = new ArrayList<>(a.length);
    for (float x : a) {
      l.add(x);
    }
    return CollectionConverters.asScala(l).toSeq();
  }

  /**
   * Test-only fault injection: {@code failOnce = "STEP:PARTITION"} fails the first attempt of that
   * rollout task, so tests can check that Spark's retry reproduces the same rollouts.
   */
  private void maybeFailForTest() {
    if (ctx.failOnce() == null || ctx.failOnce().isEmpty()) {
      return;
    }
    TaskContext tc = TaskContext.get();
    String here = ctx.step() + ":" + tc.partitionId();
    if (here.equals(ctx.failOnce()) && tc.attemptNumber() == 0) {
      throw new IllegalStateException("injected rollout failure for test (step:partition " + here + ")");
    }
  }
}
