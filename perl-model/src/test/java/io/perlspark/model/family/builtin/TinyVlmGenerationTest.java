package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TinyVlmGenerationTest {
  /** KV-cached and recomputed logits agree to this absolute tolerance (float32 rounding). */
  static final float LOGIT_TOLERANCE = 1e-4f;

  static TinyVlm model;

  @BeforeAll
  static void build() {
    model = Fixtures.sharpModel(11);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static GenerationOptions options(float temperature, int maxNew, long[] seeds) {
    return GenerationOptions.builder()
        .optTemperature(temperature)
        .optMaxNewTokens(maxNew)
        .setSeeds(seeds)
        .build();
  }

  @Test
  void kvCacheGivesTheLogitsAndGreedyTokensOfFullRecomputation() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(4, 5); // 0..3 images: left padding in use
    GenerationOptions greedy = options(0f, 20, Fixtures.seeds(4, 1));
    List<float[]> cachedLogits = new ArrayList<>();
    List<float[]> fullLogits = new ArrayList<>();
    GenerationResult cached = model.generateTraced(prompts, greedy, true, cachedLogits);
    GenerationResult full = model.generateTraced(prompts, greedy, false, fullLogits);

    assertArrayEquals(full.tokens(), cached.tokens());
    assertEquals(fullLogits.size(), cachedLogits.size());
    assertTrue(cachedLogits.size() > 1, "several decoding steps were compared");
    for (int s = 0; s < cachedLogits.size(); s++) {
      float diff = Fixtures.maxAbsDiff(cachedLogits.get(s), fullLogits.get(s));
      assertTrue(diff <= LOGIT_TOLERANCE, "step " + s + ": max |logit diff| = " + diff);
    }
    assertTrue(Fixtures.maxAbsDiff(cached.logProbs(), full.logProbs()) <= LOGIT_TOLERANCE);
  }

  @Test
  void kvCacheMatchesRecomputationWhenSampling() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(3, 9);
    GenerationOptions sampled = options(1f, 16, Fixtures.seeds(3, 77));
    List<float[]> cachedLogits = new ArrayList<>();
    List<float[]> fullLogits = new ArrayList<>();
    GenerationResult cached = model.generateTraced(prompts, sampled, true, cachedLogits);
    GenerationResult full = model.generateTraced(prompts, sampled, false, fullLogits);
    assertArrayEquals(full.tokens(), cached.tokens());
    for (int s = 0; s < cachedLogits.size(); s++) {
      assertTrue(Fixtures.maxAbsDiff(cachedLogits.get(s), fullLogits.get(s)) <= LOGIT_TOLERANCE);
    }
  }

  @Test
  void sameSeedGivesSameTokensAndDifferentSeedsDifferentTokens() {
    List<PolicyInput> prompts = List.of(Fixtures.prompt(2, 3), Fixtures.prompt(2, 3));
    GenerationResult a = model.generate(prompts, options(1f, 24, new long[] {5, 6}));
    GenerationResult b = model.generate(prompts, options(1f, 24, new long[] {5, 6}));
    assertArrayEquals(a.tokens(), b.tokens());
    assertArrayEquals(a.logProbs(), b.logProbs());
    // The same prompt twice in one batch with different seeds: different responses.
    assertFalse(Arrays.equals(a.tokens()[0], a.tokens()[1]), "seeds 5 and 6 gave equal tokens");
    GenerationResult c = model.generate(prompts, options(1f, 24, new long[] {7, 8}));
    assertFalse(Arrays.equals(a.tokens()[0], c.tokens()[0]), "seeds 5 and 7 gave equal tokens");
  }

  @Test
  void aSequenceDoesNotDependOnTheRestOfTheBatch() {
    PolicyInput target = Fixtures.prompt(2, 42);
    GenerationResult alone = model.generate(List.of(target), options(1f, 24, new long[] {99}));
    List<PolicyInput> batch = new ArrayList<>(Fixtures.mixedPrompts(5, 100));
    batch.add(2, target);
    long[] seeds = Fixtures.seeds(6, 3);
    seeds[2] = 99;
    GenerationResult together = model.generate(batch, options(1f, 24, seeds));
    assertArrayEquals(alone.tokens()[0], together.tokens()[2]);
    assertTrue(Fixtures.maxAbsDiff(alone.logProbs()[0], together.logProbs()[2]) <= 1e-4f);
  }

  @Test
  void tinyTopPSamplesTheMostLikelyToken() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(3, 21);
    GenerationResult greedy = model.generate(prompts, options(0f, 12, Fixtures.seeds(3, 0)));
    GenerationResult nucleus =
        model.generate(
            prompts,
            GenerationOptions.builder()
                .optTemperature(1f)
                .optTopP(1e-6f)
                .optMaxNewTokens(12)
                .setSeeds(Fixtures.seeds(3, 50))
                .build());
    assertArrayEquals(greedy.tokens(), nucleus.tokens());
    // Log-probs are under the full softmax (temperature 1 in both), not the truncated nucleus.
    assertTrue(Fixtures.maxAbsDiff(greedy.logProbs(), nucleus.logProbs()) <= 1e-6f);
    for (float[] row : nucleus.logProbs()) {
      for (float lp : row) {
        assertTrue(lp < 0f && lp > -50f, "log-prob " + lp);
      }
    }
  }

  @Test
  void stopsAtEosAndKeepsItAsTheLastToken() {
    try (TinyVlm eager = Fixtures.model(3)) {
      forceEos(eager);
      List<PolicyInput> prompts = Fixtures.mixedPrompts(2, 1);
      GenerationResult r = eager.generate(prompts, options(0f, 10, Fixtures.seeds(2, 0)));
      for (int b = 0; b < 2; b++) {
        assertArrayEquals(new int[] {Fixtures.TOKENIZER.eosId()}, r.tokens()[b]);
        assertTrue(r.finished()[b]);
        assertEquals(0, r.withoutEos(b).length);
      }
      GenerationResult ignoring =
          eager.generate(
              prompts,
              GenerationOptions.builder()
                  .optTemperature(0f)
                  .optMaxNewTokens(10)
                  .optIgnoreEos(true)
                  .setSeeds(Fixtures.seeds(2, 0))
                  .build());
      assertEquals(10, ignoring.tokens()[0].length);
      assertFalse(ignoring.finished()[0]);
    }
  }

  /** Makes eos the overwhelming choice: the final norm outputs a constant the head maps to eos. */
  static void forceEos(TinyVlm m) {
    int d = m.spec().dModel();
    for (Parameter p : m.trainableParameters()) {
      switch (p.getName()) {
        case "final.gamma" -> p.getArray().set(new float[d]);
        case "final.beta" -> {
          float[] beta = new float[d];
          beta[0] = 1f;
          p.getArray().set(beta);
        }
        case "head.weight" -> {
          float[] w = new float[m.spec().vocabSize() * d];
          w[Fixtures.TOKENIZER.eosId() * d] = 20f;
          p.getArray().set(w);
        }
        default -> {}
      }
    }
  }

  @Test
  void responsesStopAtMaxNewTokensAndAtMaxSeqLen() {
    ModelSpec shortSpec = Fixtures.SPEC.withMaxSeqLen(40);
    try (TinyVlm small =
        TinyVlm.builder().setSpec(shortSpec).setTokenizer(Fixtures.TOKENIZER).optSeed(2).build()) {
      // 3 images: bos + 3*9 patches + 7 question tokens = 35 positions; 5 remain.
      PolicyInput three = Fixtures.prompt(3, 8);
      PolicyInput none = Fixtures.prompt(0, 8);
      GenerationResult r =
          small.generate(
              List.of(three, none),
              GenerationOptions.builder()
                  .optMaxNewTokens(12)
                  .optIgnoreEos(true)
                  .setSeeds(1, 2)
                  .build());
      assertEquals(40 - Sequences.promptLength(three, shortSpec), r.tokens()[0].length);
      assertEquals(12, r.tokens()[1].length);
      assertFalse(r.finished()[0]);
    }
  }

  @Test
  void badInputsAreRejectedWithClearErrors() {
    PolicyInput ok = Fixtures.prompt(2, 1);
    IllegalArgumentException seeds =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.generate(List.of(ok, ok), options(1f, 4, new long[] {1})));
    assertTrue(seeds.getMessage().contains("2 prompts but 1 seeds"), seeds.getMessage());

    PolicyInput missingImage = new PolicyInput(ok.promptTokens(), new float[][] {ok.images()[0]});
    IllegalArgumentException placeholders =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.generate(List.of(ok, missingImage), options(1f, 4, new long[] {1, 2})));
    assertTrue(
        placeholders.getMessage().contains("prompt 1 has 2 <image> placeholders but 1 images"),
        placeholders.getMessage());

    PolicyInput smallImage =
        new PolicyInput(Fixtures.TOKENIZER.encode("<image> red"), new float[][] {new float[10]});
    IllegalArgumentException size =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.generate(List.of(smallImage), options(1f, 4, new long[] {1})));
    assertTrue(size.getMessage().contains("has 10 floats"), size.getMessage());

    int[] tooLong = new int[Fixtures.SPEC.maxSeqLen()];
    Arrays.fill(tooLong, Fixtures.TOKENIZER.id("red").getAsInt());
    IllegalArgumentException length =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                model.generate(
                    List.of(new PolicyInput(tooLong, null)), options(1f, 4, new long[] {1})));
    assertTrue(length.getMessage().contains("maxSeqLen=80"), length.getMessage());

    IllegalArgumentException vocab =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TinyVlm.builder()
                    .setSpec(Fixtures.SPEC.withVocabSize(99))
                    .setTokenizer(Fixtures.TOKENIZER)
                    .build());
    assertTrue(vocab.getMessage().contains("vocabSize=99"), vocab.getMessage());
  }

  @Test
  void emptyBatchGivesEmptyResult() {
    GenerationResult r = model.generate(List.of(), options(1f, 4, new long[0]));
    assertEquals(0, r.size());
  }

  @Test
  void optionsAreValidated() {
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerationOptions.builder().optTemperature(-1f).setSeeds(1).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerationOptions.builder().optTopP(0f).setSeeds(1).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerationOptions.builder().optMaxNewTokens(0).setSeeds(1).build());
    IllegalArgumentException noSeeds =
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().build());
    assertTrue(noSeeds.getMessage().contains("seeds"));
    GenerationOptions o = GenerationOptions.builder().setSeeds(1, 2).build();
    assertNotEquals(o, o.withSeeds(3, 4));
    assertEquals(o, o.withSeeds(1, 2));
  }
}
