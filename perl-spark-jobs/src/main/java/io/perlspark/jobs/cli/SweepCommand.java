package io.perlspark.jobs.cli;

import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.sweep.SweepRunner;
import io.perlspark.jobs.sweep.SweepSpec;
import io.perlspark.jobs.sweep.Cell;
import io.perlspark.jobs.sweep.SweepTable;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = {"Runs a grid of train and eval cells and writes one results table.",
        "",
        "For example the PeRL ablation: CSV, Markdown and PNG with mean ± std over",
        "seeds. Re-running skips finished cells."})
final class SweepCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;

  @Option(names = {"-g", "--grid"}, required = true, description = "sweep YAML (base, overrides, grids)")
  Path grid;

  @Option(names = {"-o", "--out"}, required = true, description = "sweep folder (cells/, results.*)")
  Path out;

  @Option(names = "--parallel", defaultValue = "1", description = "cells run at the same time (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--report-only",
      description = "run no cell: write the results table from the cells finished so far (e.g. of a sweep still running)")
  boolean reportOnly;

  @Override
  public Integer call() throws Exception {
    if (parallel < 1) {
      throw new PerlUserException("--parallel " + parallel + ": must be >= 1");
    }
    SweepSpec spec = SweepSpec.load(grid);
    List<String> armOrder = spec.cells().stream().map(Cell::arm).distinct().toList();
    if (reportOnly) {
      System.out.println(SweepTable.write(out, armOrder));
      System.out.println("results of the cells finished so far in " + out.resolve("results.md"));
      return 0;
    }
    SparkSession session = SparkSessions.create("perl sweep", spark.master);
    try {
      SweepRunner.Outcome o = new SweepRunner(session, spec, out, parallel).run();
      System.out.println(SweepTable.write(out, armOrder));
      System.out.printf("%d cells: %d already done, %d run, %d failed; results in %s%n", o.cells(), o.skipped(), o.ran(),
          o.failed(), out.resolve("results.md"));
      return o.failed() == 0 ? 0 : 1;
    } finally {
      session.stop();
    }
  }
}
