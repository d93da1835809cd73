package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteFolderTest {
  @TempDir Path tmp;

  @Test
  void theDriversFileSystemSettingsTravelAndNothingElse() throws Exception {
    Configuration driver = new Configuration(false);
    driver.set("fs.s3a.endpoint", "http://minio:9000");
    driver.set("fs.s3a.secret.key", "SECRET-VALUE");
    driver.set("dfs.nameservices", "ns1");
    driver.set("mapreduce.job.name", "unrelated");
    RemoteFolder folder = RemoteFolder.of("s3a://bucket/qwen", driver);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(folder);
    }
    RemoteFolder back;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (RemoteFolder) in.readObject();
    }
    assertEquals(folder, back);
    Configuration executor = back.configuration();
    assertEquals("http://minio:9000", executor.get("fs.s3a.endpoint"));
    assertEquals("ns1", executor.get("dfs.nameservices"));
    assertNull(executor.get("mapreduce.job.name"));
    assertFalse(back.toString().contains("SECRET-VALUE"), back.toString());
  }

  @Test
  void readsAFileUriThroughTheCache() throws Exception {
    Path model = Files.createDirectories(tmp.resolve("m"));
    Files.writeString(model.resolve("config.json"), "{}");
    Path local =
        RemoteFolder.of(model.toUri().toString(), new Configuration())
            .localFolder(tmp.resolve("cache"));
    assertTrue(local.startsWith(tmp.resolve("cache")));
    assertEquals("{}", Files.readString(local.resolve("config.json")));
  }
}
