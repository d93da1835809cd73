package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.model.checkpoint.CheckpointStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;
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
    long loadsBefore = io.perlspark.jobs.executor.ExecutorModelCache.loads("policy");
    PerlTrainer.Result r = train(fixture.load(List.of("run.outputDir=" + out)), "never");
    long loads = io.perlspark.jobs.executor.ExecutorModelCache.loads("policy") - loadsBefore;
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
      assertTrue(m.has("perm_probability"), "permutation is on: its probability is logged");
      assertTrue(m.get("perm_copies").asLong() <= m.get("perm_eligible").asLong(),
          "at most one copy (copies: 1) per eligible prompt: " + l);
      assertFalse(m.has("no_update"), l);
      updates += m.get("updates").asLong();
      // one policy version per step (rollouts + first update), one more per further mini-batch update
      versions += 1 + Math.max(0, m.get("updates").asLong() - 1);
    }
    // local[2]: both task slots share this JVM, so each version is loaded exactly once, not per task.
    assertEquals(versions, loads, "parameters loaded once per executor per version");
    assertTrue(updates > 0, "some mini-batch updates happened");
    byte[] init = InitialParameters.load(fixture.load(List.of()).model().init(),
        io.perlspark.jobs.executor.PolicyRuntime.from(fixture.load(List.of()).model(), 11), spark.sparkContext().hadoopConfiguration());
    assertFalse(java.util.Arrays.equals(init, r.parameters()), "training changed the parameters");
    assertTrue(Files.size(out.resolve("rollouts.jsonl")) > 0);
  }

  /**
   * A step in which the online filter drops every group updates nothing: the metrics say so, the
   * run reports it, and {@code perl train} exits non-zero unless --allow-no-update.
   */
  @Test
  void aRunInWhichNoStepUpdatesSaysSo() throws Exception {
    Path out = dir.resolve("no-update");
    // Keep only groups that are all correct: those have no reward variance, so every group is dropped.
    PerlConfig cfg = fixture.load(List.of("run.outputDir=" + out, "stages[0].steps=2", "permutation.enabled=false",
        "filter.online.minGroupAcc=1.0", "filter.online.maxFillAttempts=1"));
    PerlTrainer.Result r = train(cfg, "never");

    assertEquals(2, r.steps());
    assertEquals(0, r.stepsUpdated());
    for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      JsonNode m = new ObjectMapper().readTree(l);
      assertTrue(m.path("no_update").asBoolean(), l);
      assertEquals(0, m.get("updates").asInt(), l);
      assertFalse(m.has("perm_probability"), "no permutation probability when permutation is off: " + l);
      assertEquals(0, m.get("perm_copies").asInt(), l);
    }
    byte[] init = InitialParameters.load(cfg.model().init(),
        io.perlspark.jobs.executor.PolicyRuntime.from(cfg.model(), 11), spark.sparkContext().hadoopConfiguration());
    assertArrayEquals(init, r.parameters(), "nothing was trained");
    assertEquals(3, io.perlspark.jobs.cli.TrainCommandAccess.noUpdateExit(r, false));
    assertEquals(0, io.perlspark.jobs.cli.TrainCommandAccess.noUpdateExit(r, true));
  }

  /**
   * docs/ARCHITECTURE.md "One training step" / issue: a run killed with SIGKILL mid-training and restarted with --resume auto ends
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

  /**
   * A step that fails (a sweep cell whose rollout task dies) leaves nothing behind in the shared
   * Spark session: no cached Dataset and none of the step's broadcasts (parameters, group sets,
   * advantages), so the next cell starts clean.
   */
  @Test
  void aFailingStepReleasesItsBroadcastsAndCachedDatasets() throws Exception {
    PerlConfig cfg = fixture.load(List.of("run.outputDir=" + dir.resolve("failing"), "stages[0].steps=3",
        "algorithm.klCoef=0.01"));
    int parameterBytes = InitialParameters.load(cfg.model().init(),
        io.perlspark.jobs.executor.PolicyRuntime.from(cfg.model(), 11), spark.sparkContext().hadoopConfiguration()).length;
    // The probe sees a broadcast of parameters while it lives, and not once it is destroyed.
    var probe = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
        .broadcast(new byte[parameterBytes]);
    assertEquals(1, SparkLeaks.trainerBroadcasts(parameterBytes).size(), "the probe finds a live parameter broadcast");
    probe.destroy();
    assertEquals(List.of(), SparkLeaks.awaitNoTrainerBroadcasts(parameterBytes));

    // local[2] does not retry a failed task: the rollout of step 2 (index 1) fails the step and the run.
    PerlTrainer failing = new PerlTrainer(spark, cfg, new PerlTrainer.Options("never", "1:0", null, false));
    Exception e = assertThrows(Exception.class, failing::run);
    assertTrue(String.valueOf(e.getMessage()).contains("injected rollout failure"), e.toString());

    assertEquals(List.of(), SparkLeaks.awaitNoTrainerBroadcasts(parameterBytes), "no broadcast of the step stays alive");
    var cachedRdds = spark.sparkContext().getPersistentRDDs();
    assertTrue(cachedRdds.isEmpty(), "no cached dataset stays alive: " + cachedRdds);
    assertTrue(SparkLeaks.noCachedQueries(spark), "the session's cache manager holds no query");
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

  /**
   * Damaged checkpoints: {@code --resume auto} falls back to the newest one that verifies and still
   * ends bitwise equal to an uninterrupted run; loading a damaged one by name is a clear error.
   */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class DamagedCheckpoints {
    Path straight;
    byte[] expected;

    @BeforeAll
    void trainThreeSteps() {
      straight = dir.resolve("damaged-straight");
      PerlTrainer.Result r = train3(straight, "never");
      assertEquals(3, r.steps());
      expected = r.parameters();
    }

    /** Three steps with a checkpoint after each (the fixture's checkpointEvery is 1). */
    PerlTrainer.Result train3(Path out, String resume) {
      PerlConfig cfg = fixture.load(List.of("stages[0].steps=3", "run.outputDir=" + out));
      return new PerlTrainer(spark, cfg, new PerlTrainer.Options(resume, null, null, false)).run();
    }

    /** A copy of the uninterrupted run's folder, to damage. */
    Path copyOfStraight(String name) throws IOException {
      Path to = dir.resolve("damaged-" + name);
      try (Stream<Path> paths = Files.walk(straight)) {
        for (Path p : (Iterable<Path>) paths::iterator) {
          Path target = to.resolve(straight.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
          } else {
            Files.copy(p, target);
          }
        }
      }
      return to;
    }

    static Path step(Path run, int step, String file) {
      return run.resolve("checkpoints").resolve(CheckpointStore.dirName(step)).resolve(file);
    }

    static void flipByte(Path file, long at) throws IOException {
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x01);
      }
    }

    static void truncate(Path file, long size) throws IOException {
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.setLength(size);
      }
    }

    @Test
    void aFlippedByteInTheNewestParametersFallsBackToTheStepBefore() throws Exception {
      Path run = copyOfStraight("flipped");
      Path params = step(run, 3, CheckpointStore.PARAMS);
      flipByte(params, Files.size(params) / 2);

      PerlTrainer.Result r = train3(run, "auto");

      assertEquals(2, r.resumedFrom(), "step 3 is damaged, step 2 verifies");
      assertEquals(3, r.steps());
      assertArrayEquals(expected, r.parameters(), "redoing step 3 gives the uninterrupted run's parameters");
      assertEquals(3, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "metrics.jsonl reads as one run");
      try (CheckpointStore store = new CheckpointStore(run.resolve("checkpoints").toString(), new Configuration())) {
        assertArrayEquals(expected, store.load(3).parameters(), "the damaged checkpoint was replaced by a good one");
      }
    }

    @Test
    void aTruncatedOptimizerStateFallsBackToTheStepBefore() throws Exception {
      Path run = copyOfStraight("truncated");
      Path optimizer = step(run, 3, CheckpointStore.OPTIMIZER);
      truncate(optimizer, Files.size(optimizer) / 3);

      PerlTrainer.Result r = train3(run, "auto");

      assertEquals(2, r.resumedFrom());
      assertArrayEquals(expected, r.parameters());
    }

    @Test
    void whenNoCheckpointVerifiesResumeStopsInsteadOfStartingOver() throws Exception {
      Path run = copyOfStraight("all-damaged");
      for (int s = 1; s <= 3; s++) {
        truncate(step(run, s, CheckpointStore.MANIFEST), 7);
      }
      List<String> metricsBefore = Files.readAllLines(run.resolve("metrics.jsonl"));

      PerlUserException e = assertThrows(PerlUserException.class, () -> train3(run, "auto"));

      assertTrue(e.getMessage().contains("none of the 3 checkpoints") && e.getMessage().contains("manifest.json")
          && e.getMessage().contains("--resume never"), e.getMessage());
      assertEquals(metricsBefore, Files.readAllLines(run.resolve("metrics.jsonl")), "the run's files are left alone");
    }

    @Test
    void evalOfADamagedCheckpointNamesTheFile() throws Exception {
      Path run = copyOfStraight("eval-damaged");
      flipByte(step(run, 3, CheckpointStore.PARAMS), 0);
      CommandLine cl = PerlCli.commandLine();
      StringWriter err = new StringWriter();
      cl.setErr(new PrintWriter(err, true));

      int code = cl.execute("eval", "--config", fixture.config.toString(), "--checkpoint",
          run.resolve("checkpoints").resolve(CheckpointStore.dirName(3)).toString(),
          "-i", fixture.dir.resolve("synth/train").toString(), "-o", dir.resolve("damaged-eval-out").toString());

      String text = err.toString();
      assertEquals(2, code, text);
      assertTrue(text.contains("--checkpoint") && text.contains("step-000003") && text.contains("params.bin is corrupt"), text);
      assertFalse(text.contains("\tat "), "no stack trace: " + text);
      assertFalse(Files.exists(dir.resolve("damaged-eval-out")));
    }
  }
}
