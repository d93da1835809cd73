package io.perlspark.jobs.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;

/**
 * Wall time per phase within one step, the one place a phase is timed. A phase may run several
 * times in a step (a refill round permutes, rolls out and filters again; each mini-batch
 * broadcasts, computes gradients and steps); its times add up. Logged as {@code t_<phase>} and
 * {@code t_total}: the metrics table's column names, which the docs and the benchmark read.
 *
 * <p>With a Spark context, the Spark jobs a phase starts are described as {@code "<label>:
 * <phase>"} (e.g. "perl train step 7: rollout"), so the Spark UI and its REST API show which phase
 * of which step each job belongs to.
 */
final class StepTimings {
  /** The phases every step logs, in the metrics' column order (0 when a phase did not run). */
  static final List<String> PHASES = List.of("permute", "broadcast", "rollout", "filter", "gradient", "step");

  private static final String JOB_DESCRIPTION = "spark.job.description";

  private final long start = System.nanoTime();
  private final Map<String, Double> seconds = new LinkedHashMap<>();
  private final SparkContext spark;
  private final String label;

  StepTimings() {
    this(null, null);
  }

  /** Timings that also describe the Spark jobs of each phase as {@code "<label>: <phase>"}. */
  StepTimings(SparkContext spark, String label) {
    this.spark = spark;
    this.label = label;
    for (String p : PHASES) {
      seconds.put(p, 0.0);
    }
  }

  /** Runs {@code work} as (part of) {@code phase}; returns its result. */
  <T> T time(String phase, Supplier<T> work) {
    if (!seconds.containsKey(phase)) {
      throw new IllegalArgumentException("unknown phase '" + phase + "'; phases: " + PHASES);
    }
    long t0 = System.nanoTime();
    String outer = spark == null ? null : spark.getLocalProperty(JOB_DESCRIPTION);
    if (spark != null) {
      spark.setLocalProperty(JOB_DESCRIPTION, label + ": " + phase);
    }
    try {
      return work.get();
    } finally {
      if (spark != null) {
        spark.setLocalProperty(JOB_DESCRIPTION, outer); // a nested phase gives the outer one back
      }
      seconds.merge(phase, secondsSince(t0), Double::sum);
    }
  }

  /** As {@link #time(String, Supplier)}, for work without a result. */
  void time(String phase, Runnable work) {
    time(phase, () -> {
      work.run();
      return null;
    });
  }

  /** Seconds spent in {@code phase} so far. */
  double seconds(String phase) {
    return seconds.get(phase);
  }

  /** Writes {@code t_<phase>} for every phase, then {@code t_total} (since this object was made). */
  void into(Map<String, Object> m) {
    seconds.forEach((k, v) -> m.put("t_" + k, v));
    m.put("t_total", secondsSince(start));
  }

  static double secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
