package io.perlspark.jobs.sweep;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.eval.ScopeReport;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.eval.Evaluator;
import io.perlspark.jobs.report.EvalReports;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.PerlTrainer;
import io.perlspark.jobs.train.Preflight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code perl sweep}: every cell is an independent train + eval in its own folder. Cells run
 * {@code parallel} at a time (their Spark jobs share the cluster), a failed cell is recorded and the
 * sweep goes on, and a re-run skips the cells already done.
 */
public final class SweepRunner {
  private static final Logger LOG = LoggerFactory.getLogger(SweepRunner.class);

  /** Counts of one invocation. */
  public record Outcome(int cells, int skipped, int ran, int failed) {}

  private final SparkSession spark;
  private final SweepSpec spec;
  private final Path out;
  private final int parallel;

  public SweepRunner(SparkSession spark, SweepSpec spec, Path out, int parallel) {
    this.spark = spark;
    this.spec = spec;
    this.out = out;
    this.parallel = Math.max(1, parallel);
  }

  public Outcome run() {
    List<Cell> cells = spec.cells();
    List<Cell> todo = new ArrayList<>();
    for (Cell c : cells) {
      if (CellResult.read(cellDir(c)).map(CellResult::done).orElse(false)) {
        continue;
      }
      todo.add(c);
    }
    LOG.info("sweep: {} cells, {} already done, {} to run, {} at a time", cells.size(), cells.size() - todo.size(),
        todo.size(), parallel);
    int failed = 0;
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<CellResult>> futures = new ArrayList<>();
      for (Cell c : todo) {
        futures.add(pool.submit(() -> runCell(c)));
      }
      for (Future<CellResult> f : futures) {
        if (!f.get().done()) {
          failed++;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("sweep interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("sweep cell crashed outside its own error handling", e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return new Outcome(cells.size(), cells.size() - todo.size(), todo.size(), failed);
  }

  Path cellDir(Cell c) {
    return out.resolve("cells").resolve(c.folder());
  }

  private CellResult runCell(Cell c) {
    long t0 = System.nanoTime();
    Path dir = cellDir(c);
    CellResult result;
    try {
      List<String> overrides = new ArrayList<>(spec.overrides());
      overrides.addAll(c.overrides());
      overrides.add("run.outputDir=" + dir.resolve("train"));
      overrides.add("run.name=" + c.folder());
      PerlConfig cfg = ConfigLoader.load(spec.base(), overrides);
      Preflight.forTraining(cfg);
      if (cfg.eval().splits().isEmpty()) {
        throw new IllegalArgumentException("eval.splits is empty: a sweep cell needs eval data");
      }
      LOG.info("sweep: cell {} starts", c.id());
      PerlTrainer.Result trained = new PerlTrainer(spark, cfg, new PerlTrainer.Options("auto", null, null, false)).run();
      List<String> paths = new ArrayList<>();
      cfg.eval().splits().forEach(d -> paths.add(DataPaths.resolve(d.path(), spark.sparkContext().hadoopConfiguration())));
      EvalReport report = new Evaluator(PolicyRuntime.from(cfg.model(), cfg.run().seed()), Evaluator.Settings.from(cfg))
          .evaluate(spark, trained.parameters(), "final", Evaluator.splits(paths));
      EvalReports.write(report, dir.resolve("eval"), c.id());
      Map<String, Double> metrics = metrics(report, dir.resolve("train/metrics.jsonl"));
      result = new CellResult(c.id(), c.arm(), c.values(), "done", null, (System.nanoTime() - t0) / 1e9, metrics);
      LOG.info("sweep: cell {} done in {} s", c.id(), Math.round(result.seconds()));
    } catch (Exception e) {
      // Exception, not RuntimeException: a failed Spark job throws the checked SparkException.
      LOG.warn("sweep: cell {} failed: {}", c.id(), e.toString());
      result = new CellResult(c.id(), c.arm(), c.values(), "failed", e.getClass().getSimpleName() + ": " + e.getMessage(),
          (System.nanoTime() - t0) / 1e9, Map.of());
    }
    try {
      result.write(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record cell " + c.id(), e);
    }
    return result;
  }

  /** The numbers the results table reports for one cell. */
  static Map<String, Double> metrics(EvalReport report, Path metricsJsonl) throws IOException {
    Map<String, Double> m = new LinkedHashMap<>();
    ScopeReport o = report.overall();
    put(m, "multi_image_accuracy", o.multiImage().accuracy());
    put(m, "single_image_accuracy", o.singleImage().accuracy());
    put(m, "positional_bias_gap", o.positional().biasGap());
    put(m, "share_naming_image1", o.positional().shareNamingImage1());
    put(m, "permutation_consistency", o.consistency().consistency());
    put(m, "accuracy_all_orders", o.metrics().accuracyAllPermutations());
    double zero = 0;
    double seconds = 0;
    int n = 0;
    ObjectMapper json = new ObjectMapper();
    if (Files.exists(metricsJsonl)) {
      for (String line : Files.readAllLines(metricsJsonl)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode node = json.readTree(line);
        zero += node.path("frac_zero_std").asDouble();
        seconds += node.path("t_total").asDouble();
        n++;
      }
    }
    put(m, "frac_zero_std", n == 0 ? null : zero / n);
    put(m, "train_seconds", seconds);
    return m;
  }

  private static void put(Map<String, Double> m, String k, Double v) {
    if (v != null && Double.isFinite(v)) {
      m.put(k, v);
    }
  }
}
