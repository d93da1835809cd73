package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.policy.PolicyInput;
import java.util.List;
import org.junit.jupiter.api.Test;

class GenerationBenchmarkTest {
  @Test
  void measuresBothPathsOnFullLengthResponses() {
    try (TinyVlm model = Fixtures.model(2)) {
      List<PolicyInput> prompts =
          GenerationBenchmark.syntheticPrompts(Fixtures.TOKENIZER, Fixtures.SPEC, 2, 1);
      for (boolean cached : new boolean[] {true, false}) {
        GenerationBenchmark.Result r = GenerationBenchmark.measure(model, prompts, 8, 1, cached);
        assertEquals(cached, r.cached());
        assertTrue(r.tokensPerSecond() > 0);
      }
    }
  }
}
