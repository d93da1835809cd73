package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.TokenScores;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TinyVlmParametersTest {

  @Test
  void sameSeedGivesIdenticalParametersAndOtherSeedsDiffer() {
    try (TinyVlm a = Fixtures.model(5);
        TinyVlm b = Fixtures.model(5);
        TinyVlm c = Fixtures.model(6)) {
      assertArrayEquals(a.parametersToBytes(), b.parametersToBytes());
      assertFalse(Arrays.equals(a.flatParameters(), c.flatParameters()));
    }
  }

  @Test
  void parameterCountMatchesTheSpecAndTheCalibrationSize() {
    try (TinyVlm m = Fixtures.model(1)) {
      assertEquals(Fixtures.SPEC.parameterCount(), m.parameterCount());
      assertEquals(m.parameterCount(), m.flatParameters().length);
      // The calibration prototype had 122,496 parameters (35-word vocabulary, untied head).
      assertTrue(m.parameterCount() > 115_000 && m.parameterCount() < 130_000);
      List<String> names = m.trainableParameters().stream().map(Parameter::getName).toList();
      assertEquals("patch.weight", names.get(0));
      assertEquals("head.weight", names.get(names.size() - 1));
      assertEquals(5 + 12 * 2 + 3, names.size());
    }
    ModelSpec tied = Fixtures.SPEC.withTiedHead(true);
    try (TinyVlm m = TinyVlm.builder().setSpec(tied).setTokenizer(Fixtures.TOKENIZER).build()) {
      assertEquals(tied.parameterCount(), m.parameterCount());
      assertEquals(
          Fixtures.SPEC.parameterCount() - (long) tied.vocabSize() * tied.dModel(),
          m.parameterCount());
      // A tied model generates and scores like any other.
      GenerationResult r =
          m.generate(
              List.of(Fixtures.prompt(1, 1)),
              GenerationOptions.builder().optMaxNewTokens(4).setSeeds(1).build());
      assertEquals(
          r.tokens()[0].length,
          m.score(List.of(Fixtures.prompt(1, 1)), r.tokens(), 1f, false).logProbs()[0].length);
    }
  }

  @Test
  void bytesRoundTripIntoAFreshModelGivesIdenticalOutputs() {
    List<PolicyInput> prompts = Fixtures.mixedPrompts(4, 17);
    GenerationOptions options =
        GenerationOptions.builder().optMaxNewTokens(12).setSeeds(Fixtures.seeds(4, 3)).build();
    try (TinyVlm source = Fixtures.sharpModel(8);
        TinyVlm target = Fixtures.model(99)) {
      GenerationResult expected = source.generate(prompts, options);
      byte[] bytes = source.parametersToBytes();
      assertEquals(Fixtures.SPEC, TinyVlm.specOf(bytes));
      target.loadParameters(bytes);
      assertArrayEquals(bytes, target.parametersToBytes());
      GenerationResult actual = target.generate(prompts, options);
      assertArrayEquals(expected.tokens(), actual.tokens());
      assertArrayEquals(expected.logProbs(), actual.logProbs()); // max |diff| = 0
      TokenScores s1 = source.score(prompts, expected.tokens(), 1f, true);
      TokenScores s2 = target.score(prompts, expected.tokens(), 1f, true);
      assertEquals(0f, Fixtures.maxAbsDiff(s1.logProbs(), s2.logProbs()));
      assertEquals(0f, Fixtures.maxAbsDiff(s1.entropies(), s2.entropies()));
    }
  }

  @Test
  void flatParametersRoundTripAndKeepGradientsAttached() {
    try (TinyVlm a = Fixtures.model(3);
        TinyVlm b = Fixtures.model(4)) {
      float[] values = a.flatParameters();
      b.setFlatParameters(values);
      assertArrayEquals(values, b.flatParameters());
      assertArrayEquals(a.parametersToBytes(), b.parametersToBytes());
      IllegalArgumentException wrong =
          assertThrows(IllegalArgumentException.class, () -> b.setFlatParameters(new float[3]));
      assertTrue(wrong.getMessage().contains("got 3 values"));

      // The parameter arrays are updated in place: gradients still flow, and zeroing works.
      PackedBatch batch = b.pack(List.of(Fixtures.prompt(2, 1)), new int[][] {{5, 6, 2}});
      float[] first = gradientOfFirstParameter(b, batch);
      float[] accumulated = gradientOfFirstParameter(b, batch);
      assertArrayEquals(first, accumulated, 1e-6f);
      assertTrue(norm(first) > 0);
    }
  }

  private static float[] gradientOfFirstParameter(TinyVlm model, PackedBatch batch) {
    synchronized (Engines.TRAINING_LOCK) {
      Engines.zeroGradients(model.trainableParameters());
      try (NDManager m = NDManager.newBaseManager(model.device());
          GradientCollector collector = Engines.engine().newGradientCollector()) {
        NDArray logProbs = model.responseLogProbs(m, batch, 1f, true);
        collector.backward(logProbs.mul(batch.responseMask(m)).sum());
      }
      try (NDArray grad = model.trainableParameters().get(0).getArray().getGradient()) {
        return grad.toFloatArray();
      }
    }
  }

  private static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }

  @Test
  void mismatchedOrCorruptBytesAreRejectedAndLeaveTheModelUnchanged() {
    try (TinyVlm m = Fixtures.model(1);
        TinyVlm other =
            TinyVlm.builder()
                .setSpec(Fixtures.SPEC.withMaxSeqLen(64))
                .setTokenizer(Fixtures.TOKENIZER)
                .build()) {
      byte[] before = m.parametersToBytes();
      IllegalArgumentException spec =
          assertThrows(
              IllegalArgumentException.class, () -> m.loadParameters(other.parametersToBytes()));
      assertTrue(spec.getMessage().contains("maxSeqLen=64"), spec.getMessage());
      byte[] truncated = Arrays.copyOf(before, before.length - 100);
      assertThrows(IllegalArgumentException.class, () -> m.loadParameters(truncated));
      byte[] garbage = new byte[] {1, 2, 3, 4, 5, 6, 7, 8};
      IllegalArgumentException magic =
          assertThrows(IllegalArgumentException.class, () -> m.loadParameters(garbage));
      assertTrue(magic.getMessage().contains("magic"));
      assertArrayEquals(before, m.parametersToBytes());
    }
  }
}
