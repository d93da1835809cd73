package io.perlspark.model.train;

import io.perlspark.model.family.builtin.BuiltinPromptProcessor;
import io.perlspark.common.data.Sample;
import io.perlspark.common.reward.RewardFunction;
import io.perlspark.common.reward.ResponseFormat;
import io.perlspark.common.reward.Rewards;
import io.perlspark.common.rl.GroupAdvantages;
import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.family.builtin.ModelSpec;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.family.builtin.TinyVlm;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared data for the training tests and the benchmark: the synthetic benchmark at the calibration
 * sizes, and a minimal rollout (generate, reference-score, reward, group advantages) that turns
 * prompts into {@link TrainingExample}s the way the Spark loop does.
 */
public final class TrainFixtures {
  public static final WordTokenizer TOKENIZER = SynthExamples.tokenizer();
  public static final ModelSpec SPEC = ModelSpec.calibration(TOKENIZER.vocabSize());
  public static final RewardFunction REWARD = Rewards.standard(ResponseFormat.THINK_BOXED);

  private TrainFixtures() {}

  public static SyntheticBenchmark benchmark(long seed) {
    return new SyntheticBenchmark(SynthOptions.defaults(), seed);
  }

  public static TinyVlm model(long seed) {
    return model(SPEC, seed);
  }

  public static TinyVlm model(ModelSpec spec, long seed) {
    return TinyVlm.builder().setSpec(spec).setTokenizer(TOKENIZER).optSeed(seed).build();
  }

  public static List<SynthItem> items(SyntheticBenchmark bench, Split split, int from, int count) {
    List<SynthItem> out = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      out.add(bench.generate(split, i));
    }
    return out;
  }

  public static List<SftExample> sftExamples(List<SynthItem> items, ModelSpec spec) {
    List<SftExample> out = new ArrayList<>(items.size());
    for (SynthItem item : items) {
      out.add(SynthExamples.sft(item, new BuiltinPromptProcessor(TOKENIZER, spec), TOKENIZER));
    }
    return out;
  }

  public static List<PolicyInput> prompts(List<SynthItem> items, ModelSpec spec) {
    List<PolicyInput> out = new ArrayList<>(items.size());
    for (SynthItem item : items) {
      out.add(SynthExamples.prompt(item.sample(), new BuiltinPromptProcessor(TOKENIZER, spec)));
    }
    return out;
  }

  /**
   * One rollout batch: {@code n} sampled responses per prompt (prompt-major, seeds from {@code
   * seed}), old log-probs from the sampler, reference log-probs from {@code reference} (null:
   * none), rewards by {@link #REWARD}, and group-normalised advantages per prompt.
   */
  public static List<TrainingExample> rollout(
      PolicyModel policy,
      PolicyModel reference,
      List<PolicyInput> prompts,
      List<Sample> samples,
      int n,
      int maxNewTokens,
      float temperature,
      long seed) {
    List<PolicyInput> expanded = new ArrayList<>(prompts.size() * n);
    long[] seeds = new long[prompts.size() * n];
    for (int p = 0; p < prompts.size(); p++) {
      for (int k = 0; k < n; k++) {
        expanded.add(prompts.get(p));
        seeds[p * n + k] = seed * 1_000_003L + p * 131L + k;
      }
    }
    GenerationResult generated =
        policy.generate(
            expanded,
            GenerationOptions.builder()
                .optTemperature(temperature)
                .optMaxNewTokens(maxNewTokens)
                .setSeeds(seeds)
                .build());
    float[][] ref =
        reference == null
            ? null
            : reference.score(expanded, generated.tokens(), temperature, false).logProbs();
    List<TrainingExample> out = new ArrayList<>(expanded.size());
    for (int p = 0; p < prompts.size(); p++) {
      double[] rewards = new double[n];
      for (int k = 0; k < n; k++) {
        String text = TOKENIZER.decode(generated.withoutEos(p * n + k));
        rewards[k] = REWARD.score(text, samples.get(p)).total();
      }
      double[] advantages = GroupAdvantages.compute(rewards, true);
      for (int k = 0; k < n; k++) {
        int i = p * n + k;
        out.add(
            new TrainingExample(
                expanded.get(i), generated.tokens()[i], generated.logProbs()[i],
                ref == null ? null : ref[i], advantages[k]));
      }
    }
    return out;
  }

  public static List<Sample> samples(List<SynthItem> items) {
    List<Sample> out = new ArrayList<>(items.size());
    for (SynthItem item : items) {
      out.add(item.sample());
    }
    return out;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
