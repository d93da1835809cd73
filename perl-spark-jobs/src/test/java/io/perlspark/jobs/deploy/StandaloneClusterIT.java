package io.perlspark.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.jobs.family.QwenJobsFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Run it like production": a real Spark standalone cluster (master + 2 workers on 127.0.0.1, from
 * deploy/standalone/start-cluster.sh, authenticated and encrypted RPC, Kryo with registration
 * required) runs `perl synth`, `perl sft` and two identical `perl train` runs submitted through
 * deploy/standalone/submit.sh. In the second, one executor JVM is SIGKILLed while it runs a rollout
 * task; the run must finish with bitwise the same final parameters and the same metrics as the
 * undisturbed one. A second test trains LoRA adapters on a Hugging Face Qwen2.5-VL checkpoint
 * (the tiny fixture, KL on) and exports them, PEFT-style and merged. Every process is stopped by PID (stop-cluster.sh, then a direct fallback), also
 * when the test fails or the JVM is interrupted (shutdown hook).
 *
 * <p>Not part of `mvn test` (about 6 minutes on 2 cores); .ci/standalone-it runs it after building
 * the application jar and the Spark jars: {@code mvn -pl perl-spark-jobs test -Dtest=StandaloneClusterIT}.
 */
class StandaloneClusterIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize(); // Surefire runs in the module folder
  static final Path APP_JAR = ROOT.resolve("perl-spark-jobs/target/perl-spark-jobs-0.1.0-SNAPSHOT-app.jar");
  static final Path SPARK_JARS = ROOT.resolve("deploy/spark-dist/target/jars");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path runDir;
  static Path logs;
  static Thread shutdownHook;
  static final List<Process> children = new ArrayList<>();
  static final long T0 = System.nanoTime();

  @BeforeAll
  static void startCluster() throws Exception {
    assertTrue(Files.isRegularFile(APP_JAR) && Files.isDirectory(SPARK_JARS),
        "build first: mvn -B -DskipTests install && mvn -B -f deploy/spark-dist/pom.xml package (or run .ci/standalone-it)");
    runDir = dir.resolve("cluster");
    logs = Files.createDirectories(dir.resolve("logs"));
    shutdownHook = new Thread(StandaloneClusterIT::stopEverything, "stop-standalone-cluster");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    long t = System.nanoTime();
    run("start-cluster", 3, "deploy/standalone/start-cluster.sh", "--workers", "2", "--worker-cores", "1",
        "--worker-memory", "1g", "--port", Integer.toString(freePort()), "--webui-port", Integer.toString(freePort()),
        "--run-dir", runDir.toString());
    phase("cluster start", t);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    try {
      long t = System.nanoTime();
      stopEverything();
      phase("cluster stop", t);
      for (Path pidFile : pidFiles()) {
        fail("stop-cluster.sh left " + pidFile.getFileName() + " behind");
      }
      List<String> left = processesIn(runDir);
      assertTrue(left.isEmpty(), "processes of the cluster still running after stop-cluster.sh: " + left);
      phase("total", T0);
    } finally {
      if (shutdownHook != null) {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      }
    }
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aRunWithAnExecutorKilledDuringRolloutsEndsWithTheSameParameters() throws Exception {
    Path data = dir.resolve("data");
    long t = System.nanoTime();
    submit("synth", 4, List.of(), "synth", "--out", data.resolve("synth").toString(), "--train", "200", "--eval", "27",
        "--sft", "400", "--seed", "3", "--bias", "0.8", "--partitions", "2");
    phase("perl synth", t);

    // The trainer tests' tiny setup (TrainFixture): a short SFT warm start so rewards vary.
    Path config = data.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "run: {name: cluster-it, seed: 11, outputDir: " + data.resolve("unused") + "}",
        "rollout: {n: 4, maxNewTokens: 24}",
        "trainer: {lr: 3.0e-4, promptBatch: 4, miniBatch: 2, microBatch: 8, checkpointEvery: 1, evalEvery: 0}",
        "filter: {online: {maxFillAttempts: 2}}",
        "stages:",
        "  - name: perl",
        "    steps: 4",
        "    data: [{path: " + data.resolve("synth/train") + "}]",
        ""));
    t = System.nanoTime();
    submit("sft", 6, List.of(), "sft", "--config", config.toString(), "-i", data.resolve("synth/sft").toString(),
        "-o", data.resolve("sft").toString(), "--steps", "30", "--batch", "32", "--lr", "3e-3", "--warmup", "3",
        "--checkpoint-every", "30", "--no-progress");
    phase("perl sft (30 steps)", t);

    Path undisturbed = data.resolve("undisturbed");
    Path disturbed = data.resolve("disturbed");
    t = System.nanoTime();
    submit("train-undisturbed", 6, List.of(), train(config, data, undisturbed));
    phase("perl train (4 steps, undisturbed)", t);

    t = System.nanoTime();
    int uiPort = freePort();
    Process p = start("train-disturbed", List.of("--conf", "spark.ui.enabled=true", "--conf", "spark.ui.port=" + uiPort),
        train(config, data, disturbed));
    Kill kill = killAnExecutorDuringRollouts(p, uiPort, disturbed.resolve("metrics.jsonl"));
    assertTrue(p.waitFor(8, TimeUnit.MINUTES), "the disturbed run did not finish in 8 minutes; " + tail("train-disturbed"));
    assertEquals(0, p.exitValue(), "the disturbed run failed; " + tail("train-disturbed"));
    phase("perl train (4 steps, executor " + kill.executorId + " SIGKILLed in stage " + kill.stageId + ")", t);

    String driverLog = Files.readString(logs.resolve("train-disturbed.log"));
    assertTrue(driverLog.contains("Lost executor " + kill.executorId),
        "the driver saw executor " + kill.executorId + " die; " + tail("train-disturbed"));
    // The task seen running may finish between the UI poll and the SIGKILL (a race the test cannot
    // close); then the executor still dies during the rollout phase and its cached blocks are lost and
    // recomputed. Either way the run must end with the undisturbed run's parameters (asserted below).
    boolean taskLost = driverLog.contains("in stage " + kill.stageId + ".");
    assertTrue(taskLost || driverLog.contains("No more replicas available"),
        "a task of rollout stage " + kill.stageId + " or cached blocks of the dead executor were lost; "
            + tail("train-disturbed"));
    System.out.println("StandaloneClusterIT: " + (taskLost ? "a running rollout task was lost and retried"
        : "the killed task had just finished; the executor's cached blocks were lost and recomputed"));

    // Same final parameters, bitwise, and the same training curve.
    byte[] expected = Files.readAllBytes(finalCheckpoint(undisturbed).resolve("params.bin"));
    byte[] actual = Files.readAllBytes(finalCheckpoint(disturbed).resolve("params.bin"));
    assertEquals(paramsSha(undisturbed), paramsSha(disturbed), "manifest sha256 of params.bin");
    assertArrayEquals(expected, actual, "final parameters of the disturbed run equal the undisturbed run's");
    List<JsonNode> a = metricsWithoutTimings(undisturbed);
    assertEquals(4, a.size());
    assertEquals(a, metricsWithoutTimings(disturbed), "per-step metrics (timings aside)");
    assertTrue(a.stream().mapToLong(m -> m.get("updates").asLong()).sum() > 0, "some updates happened: " + a);
    assertNotEquals(paramsSha(data.resolve("sft")), paramsSha(undisturbed), "training changed the SFT parameters");

    // The secret stays out of logs and files (other than its own 600 file) and command lines.
    String secret = Files.readString(runDir.resolve("secret")).trim();
    assertEquals(64, secret.length(), "a generated 256-bit secret");
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(runDir.resolve("secret")));
    assertFalse(kill.commandLinesHoldingSecret, "a command line held the secret");
    try (Stream<Path> files = Stream.concat(Files.walk(runDir), Files.walk(logs))) {
      List<Path> leaks = files.filter(Files::isRegularFile)
          .filter(f -> !f.equals(runDir.resolve("secret")) && !f.startsWith(runDir.resolve("djl-cache")))
          .filter(f -> !f.toString().endsWith(".jar"))
          .filter(f -> contains(f, secret)).toList();
      assertTrue(leaks.isEmpty(), "files holding the secret: " + leaks);
    }
    try (Stream<Path> files = Files.list(runDir)) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("submit.")),
          "submit.sh removed its properties files");
    }
  }

  /**
   * A LoRA run of a Hugging Face Qwen2.5-VL checkpoint (the tiny fixture, read by every JVM through
   * Hadoop from a file URI) with the KL term on: each executor builds the base once and holds the
   * policy and the reference as adapter views; then the adapters are exported as a PEFT folder and
   * merged into a full Hub folder, from the same jar on the same cluster.
   */
  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void aLoraRunOfAHubCheckpointTrainsAndExportsOnTheCluster() throws Exception {
    Path work = dir.resolve("qwen");
    Path model = QwenJobsFixture.copyTinyModel(work.resolve("qwen-tiny"));
    long t = System.nanoTime();
    submit("qwen-synth", 4, List.of(), "synth", "--out", work.resolve("synth").toString(), "--train", "16",
        "--eval", "4", "--sft", "8", "--seed", "5", "--partitions", "2");
    phase("perl synth (Qwen run)", t);
    Path config = work.resolve("lora.yaml");
    Path out = work.resolve("run");
    Files.writeString(config, String.join("\n",
        "run: {name: cluster-lora, seed: 11, outputDir: " + out + "}",
        "model: {family: qwen2_5_vl, path: '" + model.toUri() + "', maxSeqLen: 256, device: cpu,",
        "        lora: {enabled: true, rank: 4, alpha: 8}}",
        "algorithm: {klCoef: 0.05}",
        "rollout: {n: 2, maxNewTokens: 6}",
        "trainer: {lr: 1.0e-3, promptBatch: 2, miniBatch: 2, microBatch: 4, checkpointEvery: 1, evalEvery: 0}",
        "filter: {online: {enabled: false}}",
        "stages:",
        "  - name: perl",
        "    steps: 2",
        "    data: [{path: " + work.resolve("synth/train") + "}]",
        ""));
    t = System.nanoTime();
    submit("qwen-lora-train", 8, List.of(), "train", "--config", config.toString(), "--no-progress", "--resume", "never");
    phase("perl train (Qwen2.5-VL tiny, LoRA r=4, KL on, 2 steps)", t);
    List<JsonNode> steps = metricsWithoutTimings(out);
    assertEquals(2, steps.size(), "two steps logged: " + steps);

    t = System.nanoTime();
    Path adapter = work.resolve("adapter");
    Path merged = work.resolve("merged");
    submit("qwen-export", 4, List.of(), "export", "--config", config.toString(), "--checkpoint", out.toString(),
        "-o", adapter.toString());
    submit("qwen-export-merged", 4, List.of(), "export", "--config", config.toString(), "--checkpoint",
        out.toString(), "-o", merged.toString(), "--merge");
    phase("perl export (PEFT adapter, merged Hub folder)", t);
    JsonNode adapterConfig = JSON.readTree(adapter.resolve("adapter_config.json").toFile());
    assertEquals(4, adapterConfig.path("r").asInt(), adapterConfig.toString());
    assertTrue(Files.size(adapter.resolve("adapter_model.safetensors")) > 0);
    for (String f : List.of("config.json", "tokenizer.json")) {
      assertTrue(Files.isRegularFile(merged.resolve(f)), "merged folder holds " + f);
    }
    try (Stream<Path> files = Files.list(merged)) {
      assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors")), "merged weights");
    }
  }

  // ---- the kill ---------------------------------------------------------------------------------

  record Kill(String executorId, int stageId, boolean commandLinesHoldingSecret) {}

  /**
   * Waits until step 1 is done, then, through the driver's REST API, until a rollout stage
   * (a Spark job the trainer labels "perl train step N: rollout") has a running task, and SIGKILLs
   * the executor JVM running it.
   */
  static Kill killAnExecutorDuringRollouts(Process driver, int uiPort, Path metrics) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String api = "http://127.0.0.1:" + uiPort + "/api/v1/applications";
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    String appId = null;
    while (System.nanoTime() < deadline) {
      assertTrue(driver.isAlive(), "the disturbed run ended before its executor was killed; " + tail("train-disturbed"));
      if (appId == null) {
        appId = get(http, api).map(j -> j.path(0).path("id").asText(null)).orElse(null);
      } else if (lines(metrics) >= 1) {
        for (JsonNode stage : get(http, api + "/" + appId + "/stages?status=active").orElse(JSON.createArrayNode())) {
          if (!stage.path("description").asText().contains(": rollout")) {
            continue;
          }
          String tasks = api + "/" + appId + "/stages/" + stage.get("stageId").asInt() + "/"
              + stage.get("attemptId").asInt() + "/taskList?status=running";
          for (JsonNode task : get(http, tasks).orElse(JSON.createArrayNode())) {
            String executorId = task.path("executorId").asText();
            Optional<ProcessHandle> executor = executorProcess(appId, executorId);
            if (executor.isPresent()) {
              String secret = Files.readString(runDir.resolve("secret")).trim();
              boolean leaked = ProcessHandle.allProcesses().anyMatch(h -> commandLine(h).contains(secret));
              executor.get().destroyForcibly(); // SIGKILL: no shutdown hook, no goodbye to the driver
              assertTrue(executor.get().onExit().get(30, TimeUnit.SECONDS) != null);
              System.out.printf("StandaloneClusterIT: SIGKILLed executor %s (pid %d) running task %s of stage %d (%s)%n",
                  executorId, executor.get().pid(), task.path("index").asText(), stage.get("stageId").asInt(),
                  stage.path("name").asText());
              return new Kill(executorId, stage.get("stageId").asInt(), leaked);
            }
          }
        }
      }
      Thread.sleep(50);
    }
    fail("no running rollout task (a stage described 'perl train step N: rollout') seen after step 1 within 5 minutes; "
        + tail("train-disturbed"));
    return null;
  }

  /** The executor JVM of (application, executor id), found by its command line. */
  static Optional<ProcessHandle> executorProcess(String appId, String executorId) {
    return ProcessHandle.allProcesses().filter(h -> {
      List<String> args = arguments(h);
      return args.contains("org.apache.spark.executor.CoarseGrainedExecutorBackend")
          && follows(args, "--app-id", appId) && follows(args, "--executor-id", executorId);
    }).findFirst();
  }

  static boolean follows(List<String> args, String flag, String value) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() && args.get(i + 1).equals(value);
  }

  static List<String> arguments(ProcessHandle h) {
    return h.info().arguments().map(List::of).orElse(List.of());
  }

  static String commandLine(ProcessHandle h) {
    return h.info().commandLine().orElse("");
  }

  static Optional<JsonNode> get(HttpClient http, String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty(); // the UI is not up yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ---- runs -------------------------------------------------------------------------------------

  static String[] train(Path config, Path data, Path out) {
    return new String[] {"train", "--config", config.toString(), "--no-progress", "--resume", "never",
        "model.init=" + data.resolve("sft/checkpoints"), "run.outputDir=" + out};
  }

  static void submit(String name, int minutes, List<String> sparkOptions, String... perlArgs) throws Exception {
    Process p = start(name, sparkOptions, perlArgs);
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      fail(name + " did not finish in " + minutes + " minutes; " + tail(name));
    }
    assertEquals(0, p.exitValue(), name + " failed; " + tail(name));
  }

  static Process start(String name, List<String> sparkOptions, String... perlArgs) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("deploy/standalone/submit.sh", "--run-dir", runDir.toString()));
    cmd.addAll(sparkOptions);
    cmd.add("--");
    cmd.addAll(List.of(perlArgs));
    return launch(name, cmd);
  }

  static void run(String name, int minutes, String... cmd) throws Exception {
    Process p = launch(name, List.of(cmd));
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      fail(name + " did not finish in " + minutes + " minutes; " + tail(name));
    }
    assertEquals(0, p.exitValue(), name + " failed; " + tail(name));
  }

  static Process launch(String name, List<String> cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(logs.resolve(name + ".log").toFile());
    pb.environment().remove("PERL_SPARK_SECRET"); // the scripts generate one for this cluster
    pb.environment().put("PERL_APP_JAR", APP_JAR.toString());
    Process p = pb.start();
    synchronized (children) {
      children.add(p);
    }
    return p;
  }

  // ---- stopping ---------------------------------------------------------------------------------

  /** stop-cluster.sh (drivers, workers, master, orphan executors, by PID); then a direct fallback. */
  static void stopEverything() {
    if (runDir == null || !Files.isDirectory(runDir)) {
      return;
    }
    try {
      Process p = new ProcessBuilder("deploy/standalone/stop-cluster.sh", "--run-dir", runDir.toString())
          .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("stop-cluster.log").toFile())
          .start();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      System.err.println("StandaloneClusterIT: stop-cluster.sh failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Whatever is still recorded (stop-cluster.sh failed or timed out): SIGKILL by PID, if it is ours.
    for (Path f : pidFiles()) {
      try {
        long pid = Long.parseLong(Files.readString(f).trim());
        ProcessHandle.of(pid).filter(h -> commandLine(h).contains("org.apache.spark")).ifPresent(ProcessHandle::destroyForcibly);
      } catch (IOException | NumberFormatException e) {
        System.err.println("StandaloneClusterIT: cannot read " + f + ": " + e);
      }
    }
    synchronized (children) {
      for (Process c : children) {
        if (c.isAlive()) {
          c.destroyForcibly();
        }
      }
    }
  }

  static List<Path> pidFiles() {
    Path pids = runDir.resolve("pids");
    if (!Files.isDirectory(pids)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(pids)) {
      return s.filter(f -> f.toString().endsWith(".pid")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Live processes whose working directory lies in the run folder (the cluster's executors). */
  static List<String> processesIn(Path folder) {
    return ProcessHandle.allProcesses().filter(h -> {
      try {
        return Path.of("/proc", Long.toString(h.pid()), "cwd").toRealPath().startsWith(folder.toRealPath());
      } catch (IOException | SecurityException e) {
        return false;
      }
    }).map(h -> h.pid() + " " + commandLine(h)).toList();
  }

  // ---- small helpers ----------------------------------------------------------------------------

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Path finalCheckpoint(Path run) throws IOException {
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      return s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().reduce((x, y) -> y)
          .orElseThrow(() -> new AssertionError("no checkpoint in " + run));
    }
  }

  static String paramsSha(Path run) throws IOException {
    return JSON.readTree(finalCheckpoint(run).resolve("manifest.json").toFile()).path("files").path("params.bin")
        .path("sha256").asText();
  }

  static List<JsonNode> metricsWithoutTimings(Path run) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      ObjectNode m = (ObjectNode) JSON.readTree(line);
      for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (k.startsWith("t_") || k.startsWith("compute_") || k.equals("tokens_per_s")) {
          it.remove();
        }
      }
      out.add(m);
    }
    return out;
  }

  static long lines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (Stream<String> s = Files.lines(file)) {
      return s.count();
    }
  }

  static boolean contains(Path file, String text) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

  static String tail(String name) {
    try {
      List<String> l = Files.readAllLines(logs.resolve(name + ".log"), StandardCharsets.ISO_8859_1);
      return "last lines of " + name + ".log:\n" + String.join("\n", l.subList(Math.max(0, l.size() - 60), l.size()));
    } catch (IOException e) {
      return "(no log of " + name + ")";
    }
  }

  static void phase(String what, long t0) {
    System.out.printf("StandaloneClusterIT: %s: %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
  }
}
