package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.learn.AdamW;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
  @TempDir Path dir;
  CheckpointStore store;

  @BeforeEach
  void open() throws IOException {
    store = new CheckpointStore(dir.toUri().toString(), new Configuration());
  }

  @AfterEach
  void close() throws IOException {
    store.close();
  }

  static Checkpoint checkpoint(long step) {
    Random rnd = new Random(step);
    byte[] params = new byte[4096 + (int) step];
    rnd.nextBytes(params);
    float[] m = new float[100];
    float[] v = new float[100];
    for (int i = 0; i < 100; i++) {
      m[i] = (float) rnd.nextGaussian();
      v[i] = rnd.nextFloat();
    }
    Provenance prov =
        new Provenance(
            ConfigRedactorTest.YAML, 42, Map.of("train", "sha256:abc", "s3a://bucket/eval", "sha256:def"),
            "0123abcd", "2025-01-01T00:00:00Z", Map.of("java.version", "17"));
    return new Checkpoint(
        step, params, new AdamW.State(m, v, step),
        Map.of("cursor", "{\"stage\":1,\"offset\":" + (step * 64) + "}", "rng", "[1,2,3]"), prov);
  }

  private Path file(long step, String name) {
    return dir.resolve(CheckpointStore.dirName(step)).resolve(name);
  }

  @Test
  void roundTripIsExact() throws IOException {
    Checkpoint c = checkpoint(123);
    store.save(c);
    assertEquals(List.of(123L), store.steps());
    Checkpoint back = store.load(123);
    assertEquals(c, back);
    assertArrayEquals(c.parameters(), back.parameters());
    assertEquals(c.optimizerState(), back.optimizerState());
    assertEquals(c.trainerState(), back.trainerState());
    assertEquals(c.provenance(), back.provenance());
    assertEquals("0123abcd", back.provenance().codeVersion());

    Set<String> names;
    try (Stream<Path> s = Files.list(dir.resolve("step-000123"))) {
      names = s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
    assertEquals(Set.of("params.bin", "optimizer.bin", "state.json", "provenance.json", "manifest.json"), names);
    assertArrayEquals(c.parameters(), Files.readAllBytes(file(123, "params.bin")), "parameters stored verbatim");
    JsonNode manifest = new ObjectMapper().readTree(file(123, "manifest.json").toFile());
    assertEquals(CheckpointStore.sha256(c.parameters()), manifest.at("/files/params.bin/sha256").asText());
    assertEquals(c.parameters().length, manifest.at("/files/params.bin/size").asLong());
  }

  @Test
  void noSecretReachesAnyCheckpointFile() throws IOException {
    store.save(checkpoint(1));
    String config = store.load(1).provenance().configText();
    assertTrue(config.contains("maxResponseTokens: 512"), config);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        for (String secret : ConfigRedactorTest.SECRETS) {
          assertFalse(text.contains(secret), secret + " found in " + f);
        }
      }
    }
  }

  @Test
  void flippedByteIsReportedWithTheFileName() throws IOException {
    store.save(checkpoint(5));
    Path params = file(5, "params.bin");
    byte[] bytes = Files.readAllBytes(params);
    bytes[1000] ^= 0x01;
    Files.write(params, bytes);
    CheckpointException e = assertThrows(CheckpointException.class, () -> store.load(5));
    assertTrue(e.getMessage().contains("step-000005") && e.getMessage().contains("params.bin is corrupt: sha256"),
        e.getMessage());
  }

  @Test
  void truncatedFileIsReportedWithSizes() throws IOException {
    store.save(checkpoint(5));
    Path opt = file(5, "optimizer.bin");
    byte[] bytes = Files.readAllBytes(opt);
    Files.write(opt, java.util.Arrays.copyOf(bytes, bytes.length - 10));
    CheckpointException e = assertThrows(CheckpointException.class, () -> store.load(5));
    assertTrue(e.getMessage().contains("optimizer.bin has " + (bytes.length - 10) + " bytes but manifest.json says " + bytes.length),
        e.getMessage());
  }

  @Test
  void missingManifestOrFileIsReported() throws IOException {
    store.save(checkpoint(5));
    store.save(checkpoint(6));
    Files.delete(file(5, "manifest.json"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> store.load(5));
    assertTrue(e.getMessage().contains("manifest.json is missing"), e.getMessage());
    Files.delete(file(6, "state.json"));
    e = assertThrows(CheckpointException.class, () -> store.load(6));
    assertTrue(e.getMessage().contains("state.json is missing"), e.getMessage());
    e = assertThrows(CheckpointException.class, () -> store.load(7));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void latestValidFallsBackPastCorruptCheckpoints() throws IOException {
    assertEquals(Optional.empty(), store.loadLatestValid(), "empty directory");
    for (long s : new long[] {10, 20, 30}) {
      store.save(checkpoint(s));
    }
    assertEquals(30, store.loadLatestValid().orElseThrow().step());
    Path params = file(30, "params.bin");
    byte[] bytes = Files.readAllBytes(params);
    bytes[0] ^= (byte) 0x80;
    Files.write(params, bytes);
    Checkpoint latest = store.loadLatestValid().orElseThrow();
    assertEquals(20, latest.step());
    assertEquals(checkpoint(20), latest);
    Files.delete(file(20, "manifest.json"));
    Files.write(file(10, "provenance.json"), "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals(Optional.empty(), store.loadLatestValid());
  }

  @Test
  void keepLastDeletesTheOldest() throws IOException {
    for (long s = 1; s <= 4; s++) {
      store.save(checkpoint(s));
    }
    assertEquals(List.of(1L, 2L), store.keepLast(2));
    assertEquals(List.of(3L, 4L), store.steps());
    assertFalse(Files.exists(dir.resolve("step-000001")));
    assertEquals(List.of(), store.keepLast(5));
    assertThrows(IllegalArgumentException.class, () -> store.keepLast(0));
  }

  @Test
  void interruptedSaveIsIgnoredAndCleaned() throws IOException {
    store.save(checkpoint(1));
    // What a crash before the rename leaves behind: a complete-looking temp dir.
    Path tmp = dir.resolve("_tmp-step-000002-5f0c");
    Files.createDirectories(tmp);
    Files.copy(file(1, "manifest.json"), tmp.resolve("manifest.json"));
    Files.write(tmp.resolve("params.bin"), new byte[] {1, 2, 3});
    assertEquals(List.of(1L), store.steps());
    assertEquals(1, store.loadLatestValid().orElseThrow().step());
    assertFalse(Files.exists(tmp), "leftover removed on resume");
  }

  @Test
  void savingTheSameStepAgainReplacesIt() throws IOException {
    store.save(checkpoint(3));
    Checkpoint changed =
        new Checkpoint(3, new byte[] {9, 9}, AdamW.State.zeros(0), Map.of("cursor", "x"), checkpoint(3).provenance());
    store.save(changed);
    assertEquals(changed, store.load(3));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("step-000003"), s.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void relativeAndSchemelessPathsWork() throws IOException {
    try (CheckpointStore plain = new CheckpointStore(dir.resolve("sub").toString(), new Configuration())) {
      plain.save(checkpoint(8));
      assertEquals(checkpoint(8), plain.load(8));
      assertTrue(plain.base().toString().startsWith("file:"), plain.base().toString());
    }
  }
}
