package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.InitialParameters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Resuming a LoRA run of a Qwen2.5-VL checkpoint: from its step-1 checkpoint it reaches the same
 * adapter bytes as the uninterrupted run, and against a base other than the one the adapters were
 * trained on it is refused, naming both fingerprints (the adapters would load, and mean nothing).
 */
class QwenLoraResumeTest {
  @TempDir static Path dir;
  static Path model;
  static Path config;
  /** The uninterrupted two-step run, shared by the tests. */
  static Path straight;

  @BeforeAll
  static void prepare() throws IOException {
    config = QwenJobsFixture.prepare(dir, "qwen-lora-resume", "lora: {enabled: true, rank: 4, alpha: 8.0}",
        "rollout: {n: 4, maxNewTokens: 32, temperature: 1.5}",
        "trainer: {lr: 1.0e-2, promptBatch: 2, miniBatch: 2, microBatch: 8, checkpointEvery: 1,"
            + " keepCheckpoints: 5, evalEvery: 0}");
    model = dir.resolve("qwen-tiny");
    straight = dir.resolve("straight");
    QwenJobsTest.perl("train", "--config", config.toString(), "--no-progress", "--resume", "never",
        "run.outputDir=" + straight);
  }

  @AfterAll
  static void stop() {
    QwenJobsFixture.tearDown();
  }


  static byte[] adapters(Path checkpoint, Path modelPath) {
    PerlConfig cfg = ConfigLoader.load(config, List.of("model.path=" + modelPath.toUri()));
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    return InitialParameters.load(checkpoint.toString(), runtime, new Configuration());
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /**
   * The step-1 checkpoint of the straight run, alone in a fresh run folder, resumed with {@code
   * --resume auto} on a byte-identical copy of the base in another folder: step 2 ends on the same
   * adapter bytes as the straight run's (the same rollouts, gradients and AdamW update).
   */
  @Test
  void aLoraRunResumedFromItsStep1CheckpointEndsOnTheSameAdapters() throws IOException {
    long t0 = System.nanoTime();
    Path resumed = dir.resolve("resumed");
    copyTree(straight.resolve("checkpoints/step-000001"), resumed.resolve("checkpoints/step-000001"));
    Path copy = QwenJobsFixture.copyTinyModel(dir.resolve("qwen-tiny-copy")); // other path and mtimes, same bytes
    QwenJobsTest.perl("train", "--config", config.toString(), "--no-progress", "--resume", "auto",
        "run.outputDir=" + resumed, "model.path=" + copy.toUri());
    assertEquals(1, Files.readAllLines(resumed.resolve("metrics.jsonl")).size(),
        "the resumed run trained step 2 only");
    byte[] step1 = adapters(straight.resolve("checkpoints/step-000001"), model);
    byte[] expected = adapters(straight.resolve("checkpoints/step-000002"), model);
    byte[] actual = adapters(resumed.resolve("checkpoints/step-000002"), model);
    assertFalse(Arrays.equals(step1, expected), "step 2 changed the adapters (else this proves nothing)");
    assertArrayEquals(expected, actual, "resumed adapters = straight run's, bit for bit");
    System.out.printf("LoRA resume: %d adapter bytes identical in %.1f s%n", actual.length,
        (System.nanoTime() - t0) / 1e9);
  }

  @Test
  void resumingOnAnotherBaseIsRefusedNamingBothFingerprints() throws IOException {
    // same sizes and headers, one weight byte differs: only the content tells the bases apart
    Path other = QwenJobsFixture.copyTinyModel(dir.resolve("qwen-tiny-other-weights"));
    try (RandomAccessFile f = new RandomAccessFile(other.resolve("model.safetensors").toFile(), "rw")) {
      f.seek(f.length() - 1);
      int b = f.read();
      f.seek(f.length() - 1);
      f.write(b ^ 0x01);
    }
    Path resumed = dir.resolve("resumed-other");
    copyTree(straight.resolve("checkpoints/step-000001"), resumed.resolve("checkpoints/step-000001"));
    CommandLine cli = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute("train", "--config", config.toString(), "--no-progress", "--resume",
        "auto", "run.outputDir=" + resumed, "model.path=" + other.toUri(), "--master", "local[2]");
    String msg = err.toString();
    System.out.println("refused: " + msg);
    assertEquals(2, code, msg);
    assertTrue(msg.contains("--resume auto") && msg.contains(model.toUri().toString())
        && msg.contains(other.toUri().toString()), msg);
    assertEquals(2, msg.split("fingerprint sha256:", -1).length - 1, "both fingerprints: " + msg);
    assertFalse(msg.contains("\tat "), "no stack trace: " + msg);
    assertFalse(Files.exists(resumed.resolve("checkpoints/step-000002")), "nothing trained");

    // model.init, and a config.json that differs only in its bytes (the sizes stay the same)
    Path otherConfig = QwenJobsFixture.copyTinyModel(dir.resolve("qwen-tiny-other-config"));
    Files.writeString(otherConfig.resolve("config.json"), "\n", StandardOpenOption.APPEND);
    PerlUserException e = assertThrows(PerlUserException.class,
        () -> adapters(straight.resolve("checkpoints"), otherConfig));
    assertTrue(e.getMessage().startsWith("model.init " + straight.resolve("checkpoints")), e.getMessage());
    assertTrue(e.getMessage().contains(otherConfig.toUri().toString()), e.getMessage());
    // the same base loads
    adapters(straight.resolve("checkpoints"), model);
  }
}
