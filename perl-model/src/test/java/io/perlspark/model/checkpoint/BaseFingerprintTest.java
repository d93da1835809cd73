package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaseFingerprintTest {
  @TempDir Path dir;

  /** A safetensors-shaped file: 8-byte header length, JSON header, {@code data}. */
  static byte[] shard(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    return b.putLong(h.length).put(h).put(data).array();
  }

  Path folder(String name, String config, byte[] shard) throws IOException {
    Path f = Files.createDirectories(dir.resolve(name));
    Files.writeString(f.resolve("config.json"), config);
    Files.write(f.resolve("model-00001-of-00001.safetensors"), shard);
    Files.writeString(f.resolve("README.md"), name); // not part of the base
    return f;
  }

  @Test
  void copiesMatchAndConfigHeaderOrSampledWeightsTellBasesApart() throws IOException {
    byte[] data = new byte[3 * BaseFingerprint.SAMPLE];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + data.length / 4 + "],\"data_offsets\":[0,"
        + data.length + "]}}";
    String a = BaseFingerprint.of(folder("a", "{\"x\":1}", shard(header, data)));
    assertTrue(a.startsWith("sha256:"), a);
    Path copy = folder("copy", "{\"x\":1}", shard(header, data));
    Files.setLastModifiedTime(copy.resolve("config.json"), FileTime.fromMillis(0));
    assertEquals(a, BaseFingerprint.of(copy), "path, mtime and non-weight files do not count");
    assertNotEquals(a, BaseFingerprint.of(folder("config", "{\"x\":2}", shard(header, data))));
    assertNotEquals(a, BaseFingerprint.of(folder("header", "{\"x\":1}",
        shard(header.replace("\"w\"", "\"v\""), data))));
    byte[] first = data.clone();
    first[0] ^= 1;
    assertNotEquals(a, BaseFingerprint.of(folder("first", "{\"x\":1}", shard(header, first))));
    byte[] last = data.clone();
    last[last.length - 1] ^= 1;
    assertNotEquals(a, BaseFingerprint.of(folder("last", "{\"x\":1}", shard(header, last))));
  }
}
