package io.perlspark.model.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  @TempDir Path dir;

  /** A file written byte by byte here, so the reader is checked against the format, not itself. */
  private Path handWritten(String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    Path f = dir.resolve("t.safetensors");
    Files.write(f, b.array());
    return f;
  }

  @Test
  void readsBf16F32AndI64ByTheFormat() throws Exception {
    ByteBuffer data = ByteBuffer.allocate(4 + 8 + 16).order(ByteOrder.LITTLE_ENDIAN);
    // bf16 1.5 = 0x3FC0, -2.0 = 0xC000
    data.putShort((short) 0x3FC0).putShort((short) 0xC000);
    data.putFloat(0.25f).putFloat(-7f);
    data.putLong(151655L).putLong(-1L);
    Path f = handWritten("{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[4,12]},"
        + "\"c\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[12,28]}}", data.array());
    try (SafeTensors st = SafeTensors.open(f); NDManager m = NDManager.newBaseManager()) {
      assertEquals("pt", st.metadata().get("format"));
      assertArrayEquals(new float[] {1.5f, -2f}, st.loadFloat("a", m).toFloatArray());
      NDArray b = st.loadFloat("b", m);
      assertEquals(new ai.djl.ndarray.types.Shape(1, 2), b.getShape());
      assertArrayEquals(new float[] {0.25f, -7f}, b.toFloatArray());
      assertArrayEquals(new long[] {151655L, -1L}, st.load("c", m, DataType.INT64).toLongArray());
    }
  }

  @Test
  void offsetsThatDoNotFitTheSizeAreRefusedWithTheTensorNamed() throws Exception {
    Path f = handWritten("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
    IOException e = assertThrows(IOException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains("tensor w"), e.getMessage());
  }

  @Test
  void notASafetensorsFileIsAClearError() throws Exception {
    Path f = dir.resolve("x.safetensors");
    Files.writeString(f, "hello world, this is text");
    IOException e = assertThrows(IOException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());
  }

  @Test
  void readsTheFixtureCheckpointsBf16Weights() throws Exception {
    Path f = Path.of(getClass().getResource("/qwen25vl/tiny-tied/model.safetensors").toURI());
    try (SafeTensors st = SafeTensors.open(f); NDManager m = NDManager.newBaseManager()) {
      SafeTensors.TensorInfo info = st.info("model.embed_tokens.weight");
      assertEquals("BF16", info.dtype());
      assertArrayEquals(new long[] {151936, 32}, info.shape());
      NDArray e = st.loadFloat("model.embed_tokens.weight", m);
      // the fixture's embeddings are multiples of 1/4 (exact in bf16)
      float[] v = e.get("0:4").toFloatArray();
      for (float x : v) {
        assertEquals(0f, x * 4 - Math.round(x * 4), 0f);
      }
      assertTrue(e.abs().sum().getFloat() > 0);
    }
  }

  /**
   * A tensor loaded without conversion (F32 as float32, I64 as int64) is a copy in PyTorch memory:
   * it outlives the file's mapping and the GC (a same-type toType() would alias the mapping).
   */
  @Test
  void sameTypeLoadsOwnTheirMemory() throws Exception {
    int n = 4096;
    ByteBuffer data = ByteBuffer.allocate(n * 4 + n * 8).order(ByteOrder.LITTLE_ENDIAN);
    float[] floats = new float[n];
    long[] longs = new long[n];
    for (int i = 0; i < n; i++) {
      floats[i] = i * 0.5f - 3f;
      longs[i] = 151000L + i;
      data.putFloat(floats[i]);
    }
    for (long v : longs) {
      data.putLong(v);
    }
    Path f = handWritten("{\"f\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0,"
        + n * 4 + "]},\"l\":{\"dtype\":\"I64\",\"shape\":[" + n + "],\"data_offsets\":["
        + n * 4 + "," + n * 12 + "]}}", data.array());
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a;
      NDArray b;
      try (SafeTensors st = SafeTensors.open(f)) {
        a = st.loadFloat("f", m);
        b = st.load("l", m, DataType.INT64);
      }
      Files.delete(f);
      for (int round = 0; round < 3; round++) {
        io.perlspark.model.policy.ConstantsTest.churn();
      }
      assertArrayEquals(floats, a.toFloatArray());
      assertArrayEquals(longs, b.toLongArray());
    }
  }
}
