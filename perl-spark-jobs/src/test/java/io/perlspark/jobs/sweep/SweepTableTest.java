package io.perlspark.jobs.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SweepTableTest {
  static CellResult cell(String arm, int seed, String status, double acc) {
    return new CellResult(arm + ",seed=" + seed, arm, Map.of("seed", Integer.toString(seed)), status, null, 1.0,
        status.equals("done") ? Map.of("multi_image_accuracy", acc) : Map.of());
  }

  @Test
  void armsFollowTheGridOrderAndAverageOnlyFinishedSeeds() {
    List<CellResult> cells = List.of(
        cell("algo=grpo+perm", 1, "done", 0.60), cell("algo=grpo+perm", 2, "done", 0.64),
        cell("algo=grpo", 1, "done", 0.50), cell("algo=grpo", 2, "failed", 0),
        cell("algo=old", 1, "done", 0.1));
    List<SweepTable.Arm> arms = SweepTable.arms(cells, List.of("algo=grpo", "algo=grpo+perm", "algo=perl"));
    assertEquals(List.of("algo=grpo", "algo=grpo+perm", "algo=old"), arms.stream().map(SweepTable.Arm::arm).toList(),
        "grid order first, an arm with no cells left out, cells of no listed arm last");
    assertEquals(1, arms.get(0).done());
    assertEquals(1, arms.get(0).failed());
    double[] perm = arms.get(1).meanStd().get("multi_image_accuracy");
    assertEquals(0.62, perm[0], 1e-12);
    assertEquals(Math.sqrt(0.0008), perm[1], 1e-12); // sample sd of {0.60, 0.64}
    assertEquals(0.50, arms.get(0).meanStd().get("multi_image_accuracy")[0], 1e-12);
  }

  @Test
  void chartLabelsDropTheAxisPrefixes() {
    assertEquals("perl, copies=2", SweepTable.shortLabel("algo=perl,permutation.copies=2"));
    assertEquals("grpo+perm", SweepTable.shortLabel("algo=grpo+perm"));
    assertEquals("lr=0.001, perl", SweepTable.shortLabel("trainer.lr=0.001,algo=perl"));
  }
}
