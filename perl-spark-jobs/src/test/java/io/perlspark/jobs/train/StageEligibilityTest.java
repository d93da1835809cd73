package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.common.permute.PermutationEligibility.Verdict;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The stage-start line names the verdicts of the prompts that cannot be permuted, and only those. */
class StageEligibilityTest {
  @Test
  void theLineListsOnlyVerdictsThatOccur() {
    Map<Verdict, Long> all = new EnumMap<>(Verdict.class);
    all.put(Verdict.PERMUTABLE, 3L);
    assertEquals("3 of 3 prompts can be permuted (3 have 2 or more images)",
        new StageData.Eligibility(Set.of("a", "b", "c"), 3, 3, all).describe());
    Map<Verdict, Long> mixed = new EnumMap<>(all);
    mixed.put(Verdict.TOO_FEW_IMAGES, 2L);
    mixed.put(Verdict.POSITION_REFERRING_TEXT, 1L);
    assertEquals("3 of 6 prompts can be permuted (4 have 2 or more images; not permutable: too_few_images 2,"
        + " position_referring_text 1)", new StageData.Eligibility(Set.of("a", "b", "c"), 6, 4, mixed).describe());
  }
}
