package io.perlspark.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.jobs.sweep.CellResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `perl sweep --report-only` writes the table of the finished cells and runs nothing. */
class SweepReportOnlyTest {
  @TempDir Path dir;

  @Test
  void writesTheTableOfFinishedCellsWithoutRunningAny() throws Exception {
    Path grid = dir.resolve("g.yaml");
    Files.writeString(grid, String.join("\n",
        "base: " + Path.of("../conf/demo.yaml").toAbsolutePath().normalize(),
        "grids:",
        "  - {algo: [grpo, perl], seed: [1, 2]}",
        ""));
    Path out = dir.resolve("sweep");
    new CellResult("algo=perl,seed=1", "algo=perl", Map.of("algo", "perl", "seed", "1"), "done", null, 10.0,
        Map.of("multi_image_accuracy", 0.7)).write(out.resolve("cells/algo=perl,seed=1"));
    int code = PerlCli.commandLine().execute("sweep", "--grid", grid.toString(), "--out", out.toString(), "--report-only");
    assertEquals(0, code);
    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains("| algo=perl | 1 | 0 | 0.700 ± 0.000 |"), md);
    assertTrue(SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty(),
        "no Spark session was started");
    try (var cells = Files.list(out.resolve("cells"))) {
      assertEquals(1, cells.count(), "no cell was run");
    }
  }
}
