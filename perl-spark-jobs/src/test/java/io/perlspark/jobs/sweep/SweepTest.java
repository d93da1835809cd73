package io.perlspark.jobs.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.TrainFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepTest {
  static SparkSession spark;
  @TempDir static Path dir;
  static TrainFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSessions.create("SweepTest", "local[2]");
    fixture = new TrainFixture(spark, dir);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  Path grid(String name, String grids) throws Exception {
    Path g = dir.resolve(name + ".yaml");
    Files.writeString(g, String.join("\n",
        "base: " + fixture.config,
        "overrides:",
        "  - model.init=" + dir.resolve("sft/checkpoints"),
        "  - stages[0].steps=2",
        "  - \"eval.splits=[{path: " + dir.resolve("synth/eval") + "}]\"",
        "  - eval.permutationsPerSample=2",
        "grids:",
        grids,
        ""));
    return g;
  }

  @Test
  void cellsRunFailuresAreRecordedAndAReRunSkipsFinishedCells() throws Exception {
    SweepSpec spec = SweepSpec.load(grid("g1", String.join("\n",
        "  - {algo: [grpo, perl], seed: [1]}",
        "  - {algo: [perl], trainer.lr: [-1], seed: [1]}")));
    assertEquals(3, spec.cells().size());
    Path out = dir.resolve("sweep1");
    SweepRunner.Outcome first = new SweepRunner(spark, spec, out, 2).run();
    assertEquals(new SweepRunner.Outcome(3, 0, 3, 1), first, "two cells done, the bad one failed and recorded");
    String table = SweepTable.write(out);
    assertTrue(table.contains("algo=grpo") && table.contains("algo=perl"), table);
    assertTrue(Files.exists(out.resolve("results.csv")) && Files.exists(out.resolve("results.png")));
    List<CellResult> cells = SweepTable.cells(out);
    CellResult bad = cells.stream().filter(c -> !c.done()).findFirst().orElseThrow();
    assertTrue(bad.error().contains("trainer.lr"), bad.error());

    // A re-run finishes at once: every done cell is skipped (the failed one is tried again).
    SweepRunner.Outcome again = new SweepRunner(spark, spec, out, 1).run();
    assertEquals(new SweepRunner.Outcome(3, 2, 1, 1), again);
  }

  @Test
  void aKilledSweepResumesWhereItStopped() throws Exception {
    SweepSpec spec = SweepSpec.load(grid("g2", "  - {algo: [grpo, grpo+perm], seed: [2]}"));
    Path out = dir.resolve("sweep2");
    assertEquals(new SweepRunner.Outcome(2, 0, 2, 0), new SweepRunner(spark, spec, out, 1).run());
    // As if killed inside the second cell: its result file never got written.
    Cell second = spec.cells().get(1);
    Path cellDir = out.resolve("cells").resolve(second.folder());
    Files.delete(cellDir.resolve(CellResult.FILE));
    long firstCellStamp = Files.getLastModifiedTime(out.resolve("cells").resolve(spec.cells().get(0).folder())
        .resolve(CellResult.FILE)).toMillis();
    assertEquals(new SweepRunner.Outcome(2, 1, 1, 0), new SweepRunner(spark, spec, out, 1).run());
    assertTrue(Files.exists(cellDir.resolve(CellResult.FILE)));
    assertEquals(firstCellStamp, Files.getLastModifiedTime(out.resolve("cells").resolve(spec.cells().get(0).folder())
        .resolve(CellResult.FILE)).toMillis(), "the finished cell was not run again");
    // The resumed cell's training continued from its own checkpoint (2 steps in total, not 4).
    assertEquals(2, Files.readAllLines(cellDir.resolve("train/metrics.jsonl")).size());
    assertFalse(SweepTable.arms(SweepTable.cells(out)).isEmpty());
  }
}
