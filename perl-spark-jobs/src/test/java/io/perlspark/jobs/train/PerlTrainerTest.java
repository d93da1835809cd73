package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.spark.SparkSessions;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerlTrainerTest {
  static SparkSession spark;
  @TempDir static Path dir;
  static TrainFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSessions.create("PerlTrainerTest", "local[2]");
    fixture = new TrainFixture(spark, dir);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static PerlTrainer.Result train(PerlConfig cfg, String resume) {
    return new PerlTrainer(spark, cfg, new PerlTrainer.Options(resume, null, null, false)).run();
  }

  @Test
  void trainingUpdatesTheParametersAndLogsEveryStep() throws Exception {
    Path out = dir.resolve("plain");
    long loadsBefore = io.perlspark.jobs.rollout.ExecutorPolicies.loads("policy");
    PerlTrainer.Result r = train(fixture.load(List.of("run.outputDir=" + out)), "never");
    long loads = io.perlspark.jobs.rollout.ExecutorPolicies.loads("policy") - loadsBefore;
    assertEquals(4, r.steps());
    List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertEquals(4, lines.size());
    ObjectMapper json = new ObjectMapper();
    long updates = 0;
    long versions = 0;
    for (String l : lines) {
      JsonNode m = json.readTree(l);
      for (String key : List.of("reward_mean", "accuracy_mean", "format_rate", "frac_zero_std", "kl", "clip_frac",
          "entropy", "response_len_mean", "tokens_per_s", "t_rollout", "t_gradient", "t_step", "groups_drawn")) {
        assertTrue(m.has(key), "metrics line lacks " + key + ": " + l);
      }
      updates += m.get("updates").asLong();
      // one policy version per step (rollouts + first update), one more per further mini-batch update
      versions += 1 + Math.max(0, m.get("updates").asLong() - 1);
    }
    // local[2]: both task slots share this JVM, so each version is loaded exactly once, not per task.
    assertEquals(versions, loads, "parameters loaded once per executor per version");
    assertTrue(updates > 0, "some mini-batch updates happened");
    byte[] init = InitialParameters.load(fixture.load(List.of()).model().init(),
        io.perlspark.jobs.rollout.PolicyRuntime.from(fixture.load(List.of()).model(), 11), spark.sparkContext().hadoopConfiguration());
    assertFalse(java.util.Arrays.equals(init, r.parameters()), "training changed the parameters");
    assertTrue(Files.size(out.resolve("rollouts.jsonl")) > 0);
  }

  /**
   * DESIGN §4 / issue: a run killed with SIGKILL mid-training and restarted with --resume auto ends
   * with bitwise the same parameters as an uninterrupted run with the same seed.
   */
  @Test
  void aRunKilledMidTrainingResumesToTheSameParameters() throws Exception {
    Path straight = dir.resolve("straight");
    byte[] expected = train(fixture.load(List.of("run.outputDir=" + straight)), "never").parameters();

    Path killed = dir.resolve("killed");
    Process p = launchTrainJvm(killed);
    try {
      Path marker = killed.resolve("checkpoints/step-000002/manifest.json");
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(Files.exists(marker), "the child run wrote its step-2 checkpoint; log: " + log(killed));
      p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, nothing flushed
      p.waitFor(30, TimeUnit.SECONDS);
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
    PerlConfig cfg = fixture.load(List.of("run.outputDir=" + killed));
    PerlTrainer.Result resumed = train(cfg, "auto");
    assertEquals(4, resumed.steps());
    assertArrayEquals(expected, resumed.parameters(), "resumed run ends bitwise equal to the uninterrupted one");
    assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).size(),
        Files.readAllLines(killed.resolve("metrics.jsonl")).size(), "metrics.jsonl reads as one run");
  }

  static String log(Path runDir) {
    try {
      return Files.readString(runDir.resolveSibling(runDir.getFileName() + ".log"));
    } catch (Exception e) {
      return "(no log)";
    }
  }

  /** `perl train` in a child JVM (the test classpath, the launcher's JVM flags). */
  static Process launchTrainJvm(Path out) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx2g");
    for (String l : Files.readAllLines(Path.of("..", "conf", "jvm.options"))) {
      if (!l.isBlank() && !l.trim().startsWith("#")) {
        cmd.add(l.trim());
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.perlspark.jobs.cli.PerlCli");
    cmd.add("train");
    cmd.add("--config");
    cmd.add(fixture.config.toString());
    cmd.add("--no-progress");
    cmd.add("--master");
    cmd.add("local[2]");
    cmd.add("model.init=" + dir.resolve("sft/checkpoints"));
    cmd.add("run.outputDir=" + out);
    File logFile = out.resolveSibling(out.getFileName() + ".log").toFile();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile);
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return pb.start();
  }
}
