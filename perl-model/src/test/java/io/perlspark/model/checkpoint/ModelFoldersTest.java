package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFoldersTest {
  @TempDir Path tmp;
  Path model;
  Path cache;
  final Configuration conf = new Configuration();

  @BeforeEach
  void aModelFolder() throws IOException {
    model = Files.createDirectories(tmp.resolve("Qwen2.5-VL-tiny"));
    Files.writeString(model.resolve("config.json"), "{\"model_type\": \"qwen2_5_vl\"}");
    Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5});
    Files.createDirectories(model.resolve("sub"));
    Files.writeString(model.resolve("sub/tokenizer.json"), "{}");
    cache = tmp.resolve("cache");
  }

  @Test
  void aLocalFolderIsUsedInPlace() throws IOException {
    String plain = model.toString();
    assertEquals(model, ModelFolders.localFolder(plain, conf, cache));
    assertFalse(Files.exists(cache), "nothing is copied for a local path");
  }

  @Test
  void aFileUriIsCopiedWholeIntoTheCache() throws IOException {
    Path local = ModelFolders.localFolder(model.toUri().toString(), conf, cache);
    assertTrue(local.startsWith(cache), local.toString());
    assertTrue(local.getFileName().toString().startsWith("qwen2.5-vl-tiny-"), local.toString());
    assertEquals(Files.readString(model.resolve("config.json")),
        Files.readString(local.resolve("config.json")));
    assertEquals(5, Files.size(local.resolve("model.safetensors")));
    assertEquals("{}", Files.readString(local.resolve("sub/tokenizer.json")));
    try (Stream<Path> entries = Files.list(cache)) {
      assertEquals(List.of(local), entries.toList(), "no staging folder is left behind");
    }
  }

  @Test
  void anUnchangedFolderIsCopiedOnlyOnce() throws IOException {
    String uri = model.toUri().toString();
    Path first = ModelFolders.localFolder(uri, conf, cache);
    // A marker in the cached copy survives only if the second call does not copy again.
    Files.writeString(first.resolve("marker"), "x");
    Path second = ModelFolders.localFolder(uri, conf, cache);
    assertEquals(first, second);
    assertTrue(Files.exists(second.resolve("marker")));
  }

  @Test
  void aChangedFileGivesANewCopy() throws IOException {
    String uri = model.toUri().toString();
    Path first = ModelFolders.localFolder(uri, conf, cache);
    Files.write(model.resolve("model.safetensors"), new byte[] {9, 9, 9, 9, 9, 9});
    Path second = ModelFolders.localFolder(uri, conf, cache);
    assertNotEquals(first, second);
    assertEquals(6, Files.size(second.resolve("model.safetensors")));
    assertEquals(5, Files.size(first.resolve("model.safetensors")), "the old copy stays intact");
  }

  @Test
  void aTouchedFileGivesANewCopyToo() throws IOException {
    String uri = model.toUri().toString();
    Path first = ModelFolders.localFolder(uri, conf, cache);
    Path config = model.resolve("config.json");
    Files.setLastModifiedTime(
        config, FileTime.fromMillis(Files.getLastModifiedTime(config).toMillis() + 60_000));
    assertNotEquals(first, ModelFolders.localFolder(uri, conf, cache));
  }

  @Test
  void missingFoldersAndFilesAreNamed() {
    IOException missing =
        assertThrows(IOException.class,
            () -> ModelFolders.localFolder(tmp.resolve("nope").toUri().toString(), conf, cache));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    IOException file =
        assertThrows(IOException.class,
            () -> ModelFolders.localFolder(
                model.resolve("config.json").toUri().toString(), conf, cache));
    assertTrue(file.getMessage().contains("is not a folder"), file.getMessage());
    IOException localFile =
        assertThrows(IOException.class,
            () -> ModelFolders.localFolder(model.resolve("config.json").toString(), conf, cache));
    assertTrue(localFile.getMessage().contains("is not a folder"), localFile.getMessage());
    assertFalse(Files.exists(cache));
  }

  @Test
  void windowsDrivesAreNotSchemes() {
    assertFalse(ModelFolders.isUri("C:\\models\\qwen"));
    assertFalse(ModelFolders.isUri("/models/qwen"));
    assertTrue(ModelFolders.isUri("s3a://bucket/qwen"));
    assertTrue(ModelFolders.isUri("file:/tmp/qwen"));
    assertSame(Boolean.TRUE, ModelFolders.isUri("hdfs://nn/qwen"));
  }
}
