package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PolicyInput;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Spark runs several tasks per executor: inference on one shared model from two threads. */
class ConcurrentInferenceTest {
  @Test
  void parallelGenerationEqualsSequential() throws Exception {
    try (TinyVlm model = Fixtures.sharpModel(6)) {
      List<PolicyInput> prompts = Fixtures.mixedPrompts(3, 4);
      List<GenerationOptions> runs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        runs.add(
            GenerationOptions.builder().optMaxNewTokens(10).setSeeds(Fixtures.seeds(3, i)).build());
      }
      List<GenerationResult> sequential = new ArrayList<>();
      for (GenerationOptions o : runs) {
        sequential.add(model.generate(prompts, o));
      }
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<GenerationResult>> parallel = new ArrayList<>();
        for (GenerationOptions o : runs) {
          parallel.add(pool.submit(() -> model.generate(prompts, o)));
        }
        for (int i = 0; i < runs.size(); i++) {
          assertArrayEquals(sequential.get(i).tokens(), parallel.get(i).get().tokens());
        }
      } finally {
        pool.shutdown();
      }
    }
  }
}
