package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.jobs.spark.SparkSessions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout task that fails on its first attempt is retried by Spark, and the retry reproduces
 * exactly the rollouts of a run without the failure (every response is seeded by run seed, step,
 * sample id, copy and index, never by the task).
 */
class RolloutRetryTest {
  static SparkSession spark;
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    // local[N,F]: local mode retries a failed task up to F-1 times (plain local[N] never retries).
    spark = SparkSessions.create("RolloutRetryTest", "local[2,3]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void aFailedRolloutTaskIsRetriedWithIdenticalRollouts() throws Exception {
    TrainFixture fixture = new TrainFixture(spark, dir);
    List<String> oneStep = List.of("stages[0].steps=2");
    Path clean = dir.resolve("clean");
    byte[] expected = new PerlTrainer(spark, fixture.load(concat(oneStep, "run.outputDir=" + clean)),
        new PerlTrainer.Options("never", null, null, false)).run().parameters();

    int[] failedTasks = {0};
    SparkListener listener = new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
          failedTasks[0]++;
        }
      }
    };
    spark.sparkContext().addSparkListener(listener);
    Path faulty = dir.resolve("faulty");
    byte[] actual;
    try {
      actual = new PerlTrainer(spark, fixture.load(concat(oneStep, "run.outputDir=" + faulty)),
          new PerlTrainer.Options("never", "1:0", null, false)).run().parameters();
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
    assertTrue(failedTasks[0] >= 1, "the injected failure happened");
    assertArrayEquals(expected, actual, "same parameters after the retried step");
    assertEquals(rewards(clean), rewards(faulty), "same rewards in every step");
    assertEquals(Files.readAllLines(clean.resolve("rollouts.jsonl")), Files.readAllLines(faulty.resolve("rollouts.jsonl")),
        "the logged rollouts are identical");
  }

  static List<String> concat(List<String> a, String b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.add(b);
    return out;
  }

  static List<String> rewards(Path run) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      var m = json.readTree(l);
      out.add(m.get("reward_mean") + "/" + m.get("accuracy_mean") + "/" + m.get("groups_drawn") + "/" + m.get("loss"));
    }
    return out;
  }
}
