package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.policy.TokenScores;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TinyVlmScoringTest {
  /** score() re-derives generate()'s log-probs (Java double softmax vs libtorch float32). */
  static final float LOGPROB_TOLERANCE = 1e-4f;

  static TinyVlm model;

  @BeforeAll
  static void build() {
    model = Fixtures.sharpModel(23);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private GenerationResult sample(List<PolicyInput> prompts, float temperature, long seed) {
    return model.generate(
        prompts,
        GenerationOptions.builder()
            .optTemperature(temperature)
            .optMaxNewTokens(16)
            .setSeeds(Fixtures.seeds(prompts.size(), seed))
            .build());
  }

  @Test
  void scoreReproducesTheLogProbsOfGeneration() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(5, 31);
    for (float temperature : new float[] {1f, 0.7f}) {
      GenerationResult generated = sample(prompts, temperature, 5);
      TokenScores scores = model.score(prompts, generated.tokens(), temperature, false);
      float diff = Fixtures.maxAbsDiff(generated.logProbs(), scores.logProbs());
      assertTrue(diff <= LOGPROB_TOLERANCE, "T=" + temperature + ": max |diff| = " + diff);
      assertNull(scores.entropies());
    }
    // Greedy responses are scored at temperature 1.
    GenerationResult greedy = sample(prompts, 0f, 5);
    TokenScores scores = model.score(prompts, greedy.tokens(), 1f, false);
    assertTrue(Fixtures.maxAbsDiff(greedy.logProbs(), scores.logProbs()) <= LOGPROB_TOLERANCE);
  }

  @Test
  void trainingPathEqualsScore() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(4, 7);
    int[][] responses = sample(prompts, 1f, 9).tokens();
    TokenScores scores = model.score(prompts, responses, 0.9f, true);
    PackedBatch batch = model.pack(prompts, responses);
    try (NDManager m = NDManager.newBaseManager(model.device())) {
      ResponseTensors out = model.responseTensors(m, batch, 0.9f, true, true);
      assertEquals(batch.batchSize(), out.logProbs().getShape().get(0));
      assertEquals(batch.responseLength(), out.logProbs().getShape().get(1));
      float[][] logProbs = batch.unpad(out.logProbs().toFloatArray());
      float[][] entropies = batch.unpad(out.entropies().toFloatArray());
      // Same kernels on the same inputs, with and without autograd recording.
      assertTrue(Fixtures.maxAbsDiff(scores.logProbs(), logProbs) <= 1e-6f);
      assertTrue(Fixtures.maxAbsDiff(scores.entropies(), entropies) <= 1e-6f);
      float[] all = out.logProbs().toFloatArray();
      for (float v : all) {
        assertTrue(Float.isFinite(v), "padded positions must be finite too");
      }
      NDArray single = model.responseLogProbs(m, batch, 0.9f, false);
      assertArrayEquals(out.logProbs().toFloatArray(), single.toFloatArray(), 1e-6f);
    }
    double maxEntropy = Math.log(Fixtures.SPEC.vocabSize());
    for (float[] row : scores.entropies()) {
      for (float h : row) {
        assertTrue(h >= 0f && h <= maxEntropy + 1e-4, "entropy " + h);
      }
    }
  }

  @Test
  void imageOrderChangesTheLogits() {
    PolicyInput original = Fixtures.prompt(3, 12);
    PolicyInput swapped = original.withImageOrder(new int[] {1, 0, 2});
    int[] response = Fixtures.TOKENIZER.encode("<think> img 1 red circle </think> \\boxed{ 1 }");
    TokenScores a = model.score(List.of(original), new int[][] {response}, 1f, false);
    TokenScores b = model.score(List.of(swapped), new int[][] {response}, 1f, false);
    float diff = Fixtures.maxAbsDiff(a.logProbs(), b.logProbs());
    assertTrue(diff > 1e-3f, "swapping images 1 and 2 changed log-probs by only " + diff);

    // Control: swapping two identical images changes nothing at all.
    float[] same = Fixtures.image(5);
    PolicyInput twins =
        PolicyInput.of(Fixtures.TOKENIZER, "<image> <image> which ?", List.of(same, same.clone()));
    TokenScores c = model.score(List.of(twins), new int[][] {response}, 1f, false);
    TokenScores d =
        model.score(List.of(twins.withImageOrder(new int[] {1, 0})), new int[][] {response}, 1f,
            false);
    assertArrayEquals(c.logProbs()[0], d.logProbs()[0], 0f);
  }

  @Test
  void gradientsReachEveryParameter() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(4, 3);
    int[][] responses = sample(prompts, 1f, 4).tokens();
    PackedBatch batch = model.pack(prompts, responses);
    synchronized (Engines.TRAINING_LOCK) {
      try (NDManager m = NDManager.newBaseManager(model.device());
          GradientCollector collector = Engines.engine().newGradientCollector()) {
        NDArray logProbs = model.responseLogProbs(m, batch, 1f, true);
        NDArray loss = logProbs.mul(batch.responseMask(m)).sum().neg();
        collector.backward(loss);
        for (Parameter p : model.trainableParameters()) {
          float[] grad = p.getArray().getGradient().toFloatArray();
          double norm = 0;
          for (float g : grad) {
            assertTrue(Float.isFinite(g), p.getName() + " has a non-finite gradient");
            norm += g * g;
          }
          assertTrue(norm > 0, p.getName() + " got no gradient");
        }
      }
    }
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    try (TinyVlm m = Fixtures.sharpModel(41)) {
      List<PolicyInput> prompts = List.of(Fixtures.prompt(2, 5), Fixtures.prompt(1, 6));
      int[][] responses = {{5, 9, 12, 2}, {7, 7}};
      PackedBatch batch = m.pack(prompts, responses);
      // Analytic gradient of sum(log-probs), flattened in trainableParameters() order.
      float[] gradient = new float[Math.toIntExact(m.parameterCount())];
      synchronized (Engines.TRAINING_LOCK) {
        Engines.zeroGradients(m.trainableParameters());
        try (NDManager nd = NDManager.newBaseManager(m.device());
            GradientCollector collector = Engines.engine().newGradientCollector()) {
          NDArray logProbs = m.responseLogProbs(nd, batch, 1f, true);
          collector.backward(logProbs.mul(batch.responseMask(nd)).sum());
        }
        int at = 0;
        for (Parameter p : m.trainableParameters()) {
          try (NDArray g = p.getArray().getGradient()) {
            float[] v = g.toFloatArray();
            System.arraycopy(v, 0, gradient, at, v.length);
            at += v.length;
          }
        }
      }
      // Central differences at the largest-gradient coordinate of every tensor (float32: eps 1e-2).
      float[] base = m.flatParameters();
      float eps = 1e-2f;
      int start = 0;
      for (Parameter p : m.trainableParameters()) {
        int size = Math.toIntExact(p.getArray().size());
        int i = start;
        for (int j = start; j < start + size; j++) {
          if (Math.abs(gradient[j]) > Math.abs(gradient[i])) {
            i = j;
          }
        }
        start += size;
        float[] plus = base.clone();
        plus[i] += eps;
        m.setFlatParameters(plus);
        double up = total(m.score(prompts, responses, 1f, false).logProbs());
        float[] minus = base.clone();
        minus[i] -= eps;
        m.setFlatParameters(minus);
        double down = total(m.score(prompts, responses, 1f, false).logProbs());
        double numeric = (up - down) / (2 * eps);
        assertEquals(
            gradient[i], numeric, 0.03 * Math.abs(gradient[i]) + 2e-3, p.getName() + "[" + i + "]");
      }
      m.setFlatParameters(base);
    }
  }

  private static double total(float[][] values) {
    double s = 0;
    for (float[] row : values) {
      for (float v : row) {
        s += v;
      }
    }
    return s;
  }

  @Test
  void packedBatchLayout() {
    PolicyInput twoImages = Fixtures.prompt(2, 1);
    PolicyInput noImage = Fixtures.prompt(0, 2);
    int[][] responses = {{5, 6, 7}, {8}};
    TinyVlmBatch batch = model.pack(List.of(twoImages, noImage), responses);
    int text = twoImages.promptTokens().length - 2;
    assertEquals(1 + text + 2 * 9, batch.promptLengths()[0]);
    assertEquals(1 + noImage.promptTokens().length, batch.promptLengths()[1]);
    assertEquals(batch.promptLengths()[0] + 3, batch.sequenceLength());
    assertEquals(3, batch.responseLength());
    assertEquals(4, batch.tokenCount());
    assertEquals(2, batch.imageCount());
    try (NDManager m = NDManager.newBaseManager()) {
      assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0}, batch.responseMask(m).toFloatArray());
      assertArrayEquals(new long[] {5, 6, 7, 8, 0, 0}, batch.targets(m).toLongArray());
    }
    IllegalArgumentException mismatch =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.pack(List.of(twoImages), new int[][] {{1}, {2}}));
    assertTrue(mismatch.getMessage().contains("1 prompts but 2 responses"));
    IllegalArgumentException tooLong =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.pack(List.of(twoImages), new int[][] {new int[80]}));
    assertTrue(tooLong.getMessage().contains("exceeds maxSeqLen=80"), tooLong.getMessage());
    IllegalArgumentException badToken =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.pack(List.of(twoImages), new int[][] {{1, 400}}));
    assertTrue(badToken.getMessage().contains("response 0: token 1 has id 400"));
    assertThrows(
        IllegalArgumentException.class,
        () -> model.score(List.of(twoImages), new int[][] {{1}}, 0f, false));
  }

  @Test
  void emptyResponsesScoreToEmptyArrays() {
    TokenScores s =
        model.score(List.of(Fixtures.prompt(1, 1), Fixtures.prompt(2, 2)), new int[][] {{}, {5}},
            1f, true);
    assertEquals(0, s.logProbs()[0].length);
    assertEquals(1, s.logProbs()[1].length);
  }
}
