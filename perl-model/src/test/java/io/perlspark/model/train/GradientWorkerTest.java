package io.perlspark.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.loss.GrpoLossConfig;
import io.perlspark.model.loss.GrpoLossConfig.Aggregation;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.family.builtin.TinyVlm;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GradientWorkerTest {
  static final int B = 12;
  static TinyVlm model;
  static TinyVlm reference;
  static List<TrainingExample> examples;

  @BeforeAll
  static void setUp() {
    model = TrainFixtures.model(5);
    reference = TrainFixtures.model(6);
    SyntheticBenchmark bench = TrainFixtures.benchmark(2);
    List<SynthItem> items = TrainFixtures.items(bench, Split.TRAIN, 0, B);
    List<PolicyInput> prompts = TrainFixtures.prompts(items, TrainFixtures.SPEC);
    long[] seeds = new long[B];
    for (int i = 0; i < B; i++) {
      seeds[i] = 100 + i;
    }
    // Lengths differ (1..14 tokens, one response empty), so micro-batches pad differently.
    GenerationResult g =
        model.generate(
            prompts,
            GenerationOptions.builder().optMaxNewTokens(14).optIgnoreEos(true).setSeeds(seeds).build());
    float[][] ref = reference.score(prompts, g.tokens(), 1f, false).logProbs();
    SplittableRandom rng = new SplittableRandom(9);
    examples = new ArrayList<>();
    for (int i = 0; i < B; i++) {
      int len = i == 4 ? 0 : 1 + (i * 5) % 14;
      int[] response = java.util.Arrays.copyOf(g.tokens()[i], len);
      float[] old = new float[len];
      float[] r = java.util.Arrays.copyOf(ref[i], len);
      for (int t = 0; t < len; t++) {
        // Old log-probs off the current ones by up to ±0.4, so ratios spread over the clip range.
        old[t] = g.logProbs()[i][t] + (float) (rng.nextDouble() * 0.8 - 0.4);
      }
      examples.add(new TrainingExample(prompts.get(i), response, old, r, rng.nextDouble() * 4 - 2));
    }
  }

  @AfterAll
  static void tearDown() {
    model.close();
    reference.close();
  }

  /** The fixture's rollouts as SFT examples (prompt + response). */
  static List<SftExample> sftExamples() {
    List<SftExample> sft = new ArrayList<>();
    for (TrainingExample e : examples) {
      sft.add(new SftExample(e.prompt(), e.response()));
    }
    return sft;
  }

  static GrpoLossConfig config(Aggregation aggregation) {
    return GrpoLossConfig.defaults().toBuilder().setKlCoef(0.1).setAggregation(aggregation).build();
  }

  @Test
  void microBatchingAndSplittingGiveTheGradientOfTheWholeBatch() {
    for (Aggregation agg : Aggregation.values()) {
      GrpoLossConfig cfg = config(agg);
      double normaliser = GradientWorker.normaliser(examples, agg);
      GradientResult whole = GradientWorker.grpoGradients(model, examples, cfg, normaliser, B, 1f);
      GradientResult micro = GradientWorker.grpoGradients(model, examples, cfg, normaliser, 2, 1f);
      GradientResult first =
          GradientWorker.grpoGradients(model, examples.subList(0, 5), cfg, normaliser, 3, 1f);
      GradientResult second =
          GradientWorker.grpoGradients(model, examples.subList(5, B), cfg, normaliser, 4, 1f);
      GradientResult halves = first.merge(second);

      double scale = TrainFixtures.maxAbs(whole.gradient());
      assertTrue(scale > 1e-3, agg + ": the check needs a real gradient, max |g| = " + scale);
      // float32 sums in another order: measured max |diff| ~1.5e-7 of the largest entry; allow 2e-6.
      double tolerance = 2e-6 * scale;
      assertTrue(
          TrainFixtures.maxAbsDiff(whole.gradient(), micro.gradient()) <= tolerance,
          agg + " micro-batch 2 differs by " + TrainFixtures.maxAbsDiff(whole.gradient(), micro.gradient()));
      assertTrue(
          TrainFixtures.maxAbsDiff(whole.gradient(), halves.gradient()) <= tolerance,
          agg + " two halves differ by " + TrainFixtures.maxAbsDiff(whole.gradient(), halves.gradient()));

      assertEquals(whole.stats().tokens(), halves.stats().tokens());
      assertEquals(whole.stats().sequences(), halves.stats().sequences());
      assertEquals(whole.stats().clipCount(), micro.stats().clipCount());
      assertEquals(whole.stats().loss(), halves.stats().loss(), 1e-5 * Math.abs(whole.stats().loss()) + 1e-7);
      assertEquals(whole.entropySum(), micro.entropySum(), 1e-4 * whole.entropySum());
      assertEquals(B, halves.sequences());
      assertEquals(normaliser, agg == Aggregation.TOKEN_MEAN ? halves.tokens() : B - 1);
      assertTrue(whole.stats().clipCount() > 0, "the ratios should reach the clip");
    }
  }

  @Test
  void tokenNormaliserCountsTokensOrNonEmptySequences() {
    List<int[]> responses = List.of(new int[] {5, 6, 2}, new int[0], new int[] {7});
    assertEquals(4.0, GradientWorker.tokenNormaliser(responses, Aggregation.TOKEN_MEAN));
    assertEquals(2.0, GradientWorker.tokenNormaliser(responses, Aggregation.SEQ_MEAN_TOKEN_MEAN));
    List<int[]> fromExamples = new ArrayList<>();
    examples.forEach(e -> fromExamples.add(e.response()));
    for (Aggregation agg : Aggregation.values()) {
      assertEquals(
          GradientWorker.tokenNormaliser(fromExamples, agg), GradientWorker.normaliser(examples, agg));
    }
  }

  @Test
  void sftGradientsAccumulateLikeOneBatch() {
    List<SftExample> sft = sftExamples();
    long normaliser = GradientWorker.sftNormaliser(sft);
    GradientResult whole = GradientWorker.sftGradients(model, sft, normaliser, B);
    GradientResult parts =
        GradientWorker.sftGradients(model, sft.subList(0, 7), normaliser, 3)
            .merge(GradientWorker.sftGradients(model, sft.subList(7, B), normaliser, 1));
    double scale = TrainFixtures.maxAbs(whole.gradient());
    assertTrue(scale > 1e-3);
    assertTrue(TrainFixtures.maxAbsDiff(whole.gradient(), parts.gradient()) <= 2e-6 * scale);
    assertEquals(normaliser, whole.sftStats().tokens());
    assertEquals(B - 1, whole.sftStats().sequences());
    // token-mean cross-entropy: the loss is the mean NLL per token.
    assertEquals(whole.sftStats().meanNll(), whole.loss(), 1e-9);
    assertEquals(whole.loss(), parts.loss(), 1e-6 * whole.loss());
    assertTrue(whole.isSft() && !whole.isGrpo());
    assertNull(whole.stats());
  }

  /**
   * An executor keeps its model between steps and loads each step's parameters into it. A step whose
   * backward pass went non-finite (the driver skips it) must not leave NaN in the gradient buffers
   * of the next one: zeroing once subtracted a gradient from itself, and NaN − NaN stays NaN.
   */
  @Test
  void aNonFiniteGradientDoesNotPoisonLaterCalls() {
    List<SftExample> sft = sftExamples();
    long normaliser = GradientWorker.sftNormaliser(sft);
    try (TinyVlm cached = TrainFixtures.model(5)) {
      GradientResult clean = GradientWorker.sftGradients(cached, sft, normaliser, 4);
      float[] params = cached.flatParameters();
      float[] broken = params.clone();
      java.util.Arrays.fill(broken, Float.NaN);
      cached.setFlatParameters(broken);
      GradientResult poisoned = GradientWorker.sftGradients(cached, sft, normaliser, 4);
      assertTrue(Float.isNaN(poisoned.gradient()[0]), "the broken step's gradient is NaN");
      cached.setFlatParameters(params);
      GradientResult after = GradientWorker.sftGradients(cached, sft, normaliser, 4);
      assertArrayEquals(clean.gradient(), after.gradient(), 0f);
    }
  }

  /**
   * Gradients do not depend on the GC: a thread that keeps collecting garbage and refilling freed
   * direct memory with junk runs while gradients are computed. Scalar operands once came from DJL's
   * {@code x.mul(Number)}, whose Java buffer the GC could free before the backward pass read it
   * (gradient norms up to 4e38 in sweep runs); see {@link io.perlspark.model.policy.Constants}.
   */
  @Test
  void gradientsDoNotDependOnTheGarbageCollector() throws Exception {
    GrpoLossConfig cfg = config(Aggregation.TOKEN_MEAN);
    double normaliser = GradientWorker.normaliser(examples, Aggregation.TOKEN_MEAN);
    GradientResult quiet = GradientWorker.grpoGradients(model, examples, cfg, normaliser, 4, 0.7f);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread churn = new Thread(() -> {
      while (!stop.get()) {
        io.perlspark.model.policy.ConstantsTest.churn();
      }
    });
    churn.start();
    try {
      for (int rep = 0; rep < 4; rep++) {
        GradientResult noisy = GradientWorker.grpoGradients(model, examples, cfg, normaliser, 4, 0.7f);
        assertArrayEquals(quiet.gradient(), noisy.gradient(), 1e-6f * (float) TrainFixtures.maxAbs(quiet.gradient()),
            "repetition " + rep);
      }
    } finally {
      stop.set(true);
      churn.join();
    }
  }

  @Test
  void gradientsAreNotLeftOverFromAnEarlierCall() {
    GrpoLossConfig cfg = config(Aggregation.TOKEN_MEAN);
    double normaliser = GradientWorker.normaliser(examples, Aggregation.TOKEN_MEAN);
    GradientResult a = GradientWorker.grpoGradients(model, examples, cfg, normaliser, 4, 1f);
    GradientResult b = GradientWorker.grpoGradients(model, examples, cfg, normaliser, 4, 1f);
    assertArrayEquals(a.gradient(), b.gradient(), 0f);
  }

  @Test
  void emptyShareAndEmptyResponsesContributeNothing() {
    GrpoLossConfig cfg = config(Aggregation.TOKEN_MEAN);
    GradientResult none = GradientWorker.grpoGradients(model, List.of(), cfg, 10, 4, 1f);
    assertEquals(model.parameterCount(), none.gradient().length);
    assertEquals(0.0, TrainFixtures.maxAbs(none.gradient()));
    assertTrue(none.stats().empty());

    TrainingExample empty = examples.get(4);
    assertEquals(0, empty.tokenCount());
    GradientResult onlyEmpty = GradientWorker.grpoGradients(model, List.of(empty), cfg, 0, 1, 1f);
    assertEquals(0.0, TrainFixtures.maxAbs(onlyEmpty.gradient()));
    assertEquals(1, onlyEmpty.sequences());
    assertTrue(Double.isFinite(onlyEmpty.loss()));
  }

  @Test
  void noArraysAreLeftInTheModelsManager() {
    GrpoLossConfig cfg = config(Aggregation.SEQ_MEAN_TOKEN_MEAN);
    double normaliser = GradientWorker.normaliser(examples, cfg.aggregation());
    GradientWorker.grpoGradients(model, examples, cfg, normaliser, 5, 1f);
    int baseline = model.manager().getManagedArrays().size();
    for (int i = 0; i < 5; i++) {
      GradientWorker.grpoGradients(model, examples, cfg, normaliser, 5, 0.7f);
      GradientWorker.sftGradients(
          model, List.of(new SftExample(examples.get(0).prompt(), examples.get(0).response())), 50, 1);
    }
    assertEquals(baseline, model.manager().getManagedArrays().size());
  }

  @Test
  void badInputsAreRejectedWithTheirName() {
    GrpoLossConfig cfg = config(Aggregation.TOKEN_MEAN);
    IllegalArgumentException small =
        assertThrows(
            IllegalArgumentException.class,
            () -> GradientWorker.grpoGradients(model, examples, cfg, 3, 4, 1f));
    assertTrue(small.getMessage().contains("normaliser 3.0"), small.getMessage());
    TrainingExample noRef =
        new TrainingExample(examples.get(0).prompt(), examples.get(0).response(),
            examples.get(0).oldLogProbs(), null, 1.0);
    IllegalArgumentException ref =
        assertThrows(
            IllegalArgumentException.class,
            () -> GradientWorker.grpoGradients(model, List.of(noRef), cfg, 100, 4, 1f));
    assertTrue(ref.getMessage().contains("example 0 has no refLogProbs"), ref.getMessage());
    // Without KL the reference is optional.
    GrpoLossConfig noKl = cfg.toBuilder().setKlCoef(0).build();
    GradientResult ok = GradientWorker.grpoGradients(model, List.of(noRef), noKl, 100, 4, 1f);
    assertEquals(0.0, ok.stats().klSum());
    assertThrows(
        IllegalArgumentException.class,
        () -> GradientWorker.grpoGradients(model, examples, cfg, 1000, 0, 1f));
    assertThrows(
        IllegalArgumentException.class,
        () -> GradientWorker.grpoGradients(model, examples, cfg, 1000, 4, 0f));
    IllegalArgumentException lengths =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TrainingExample(noRef.prompt(), new int[] {5, 6}, new float[1], null, 0));
    assertTrue(lengths.getMessage().contains("oldLogProbs has 1 values"), lengths.getMessage());
  }
}
