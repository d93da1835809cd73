package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.PolicyInput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Native memory: inference must not leave NDArrays behind in the model's manager. */
class TinyVlmMemoryTest {

  @Test
  void repeatedGenerationDoesNotGrowTheOpenArrays() {
    try (TinyVlm model = Fixtures.model(4)) {
      NDManager owner = model.manager();
      List<PolicyInput> prompts = Fixtures.mixedPrompts(3, 2);
      GenerationOptions options =
          GenerationOptions.builder().optMaxNewTokens(6).setSeeds(Fixtures.seeds(3, 0)).build();
      model.generate(prompts, options);
      int baseline = owner.getManagedArrays().size();
      assertEquals(model.trainableParameters().size(), baseline);

      // The counter sees arrays left in any sub-manager: a deliberate leak shows up.
      NDManager leaky = owner.newSubManager();
      leaky.create(new float[] {1f});
      model.trainableParameters().get(0).getArray().add(1f); // result joins the owner
      assertEquals(baseline + 2, owner.getManagedArrays().size());
      leaky.close();
      owner.getManagedArrays().stream()
          .filter(a -> !model.trainableParameters().stream().anyMatch(p -> p.getArray() == a))
          .forEach(NDArray::close);
      assertEquals(baseline, owner.getManagedArrays().size());

      for (int i = 0; i < 200; i++) {
        model.generate(prompts, options.withSeeds(i, i + 1, i + 2));
      }
      for (int i = 0; i < 20; i++) {
        model.generateNoCache(prompts, options.withSeeds(i, i + 1, i + 2));
        model.score(prompts, new int[][] {{5}, {6, 7}, {8}}, 1f, true);
      }
      assertEquals(baseline, owner.getManagedArrays().size());
    }
  }
}
