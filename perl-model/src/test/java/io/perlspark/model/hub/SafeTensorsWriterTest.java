package io.perlspark.model.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.hub.SafeTensorsWriter.Dtype;
import io.perlspark.model.hub.SafeTensorsWriter.Spec;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
  @TempDir Path dir;

  /**
   * An independent float32 → bfloat16 rounding: pick the nearer of the two bf16 neighbours by exact
   * decimal arithmetic, ties to the even one (torch's rule, written without its bias trick).
   */
  static short referenceBf16(float f) {
    if (Float.isNaN(f)) {
      return (short) 0x7FC0;
    }
    int bits = Float.floatToRawIntBits(f);
    int down = bits & 0xFFFF0000;
    if (down == bits || Float.isInfinite(f)) {
      return (short) (bits >>> 16);
    }
    int up = down + 0x10000; // next bf16 away from zero (may be infinity)
    BigDecimal x = new BigDecimal(f);
    BigDecimal dDown = x.subtract(new BigDecimal(Float.intBitsToFloat(down))).abs();
    // past the largest bf16 the next step would be 2^128: IEEE rounds to infinity from halfway there
    BigDecimal upValue = Float.isInfinite(Float.intBitsToFloat(up))
        ? new BigDecimal(java.math.BigInteger.TWO.pow(128)).multiply(BigDecimal.valueOf((long) Math.signum(f)))
        : new BigDecimal(Float.intBitsToFloat(up));
    BigDecimal dUp = x.subtract(upValue).abs();
    int c = dDown.compareTo(dUp);
    int pick = c < 0 ? down : c > 0 ? up : (((down >>> 16) & 1) == 0 ? down : up);
    return (short) (pick >>> 16);
  }

  @Test
  void bf16RoundingMatchesKnownValuesAndTheIndependentRounding() {
    assertEquals((short) 0x3F80, SafeTensorsWriter.bf16Bits(1.00390625f)); // tie, to even: 1.0
    assertEquals((short) 0x3F82, SafeTensorsWriter.bf16Bits(1.01171875f)); // tie, to even: 1.015625
    assertEquals(1.015625f, Float.intBitsToFloat(0x3F82 << 16));
    assertEquals((short) 0x3F81, SafeTensorsWriter.bf16Bits(Math.nextUp(1.00390625f))); // just above the tie
    assertEquals((short) 0x7FC0, SafeTensorsWriter.bf16Bits(Float.NaN));
    assertEquals((short) 0x7FC0, SafeTensorsWriter.bf16Bits(Float.intBitsToFloat(0xFFC12345)));
    assertEquals((short) 0x8000, SafeTensorsWriter.bf16Bits(-0f));
    assertEquals((short) 0x7F80, SafeTensorsWriter.bf16Bits(Float.POSITIVE_INFINITY));
    assertEquals((short) 0x7F80, SafeTensorsWriter.bf16Bits(Float.MAX_VALUE)); // rounds up to inf
    Random r = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      float f = Float.intBitsToFloat(r.nextInt());
      assertEquals(referenceBf16(f), SafeTensorsWriter.bf16Bits(f), () -> "bits " + Float.floatToRawIntBits(f));
    }
  }

  @Test
  void f32RoundTripIsBitwiseAndBf16IsTheRoundedValue() throws Exception {
    Random r = new Random(1);
    float[] f32 = new float[3 * 5];
    for (int i = 0; i < f32.length; i++) {
      f32[i] = (float) r.nextGaussian();
    }
    f32[3] = Float.NaN;
    f32[4] = -0f;
    f32[5] = Float.NEGATIVE_INFINITY;
    float[] bf = {1.00390625f, 1.01171875f, Float.NaN, -3.14159f, 1e-40f, 65504.7f};
    Path f = dir.resolve("x.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("w", m.create(f32, new Shape(3, 5)));
      t.put("ids", m.create(new long[] {151655L, -1L, 0L}));
      SafeTensorsWriter.write(f, t, Dtype.F32);
      try (SafeTensorsWriter w = SafeTensorsWriter.create(dir.resolve("b.safetensors"),
          List.of(new Spec("b", Dtype.BF16, new long[] {2, 3})), null)) {
        w.write("b", m.create(bf, new Shape(2, 3)));
      }
      try (SafeTensors st = SafeTensors.open(f)) {
        assertEquals("F32", st.info("w").dtype());
        assertEquals("I64", st.info("ids").dtype());
        assertEquals(Map.of("format", "pt"), st.metadata());
        float[] back = st.loadFloat("w", m).toFloatArray();
        for (int i = 0; i < f32.length; i++) {
          assertEquals(Float.floatToRawIntBits(f32[i]), Float.floatToRawIntBits(back[i]), "element " + i);
        }
        assertArrayEquals(new long[] {151655L, -1L, 0L}, st.load("ids", m, DataType.INT64).toLongArray());
      }
      try (SafeTensors st = SafeTensors.open(dir.resolve("b.safetensors"))) {
        assertEquals("BF16", st.info("b").dtype());
        assertTrue(st.metadata().isEmpty());
        float[] back = st.loadFloat("b", m).toFloatArray();
        assertEquals(1.0f, back[0]);
        assertEquals(1.015625f, back[1]);
        assertTrue(Float.isNaN(back[2]));
        for (int i = 0; i < bf.length; i++) {
          assertEquals(referenceBf16(bf[i]) << 16, Float.floatToRawIntBits(back[i]), "element " + i);
        }
      }
    }
  }

  @Test
  void f16UsesDjlsConversion() throws Exception {
    float[] v = {0.5f, -2f, 65504f, 0.1f, 1e-6f};
    Path f = dir.resolve("h.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(v);
      SafeTensorsWriter.write(f, Map.of("h", a), Dtype.F16);
      float[] expected = a.toType(DataType.FLOAT16, true).toType(DataType.FLOAT32, true).toFloatArray();
      try (SafeTensors st = SafeTensors.open(f)) {
        assertEquals("F16", st.info("h").dtype());
        float[] back = st.loadFloat("h", m).toFloatArray();
        assertArrayEquals(expected, back);
        assertEquals(65504f, back[2]);
        assertFalse(back[3] == 0.1f); // really stored in half precision
      }
    }
  }

  @Test
  void chunkedWritesCoverTensorsLargerThanOneChunk() throws Exception {
    int n = SafeTensorsWriter.CHUNK_ELEMENTS * 2 + 12345;
    Path f = dir.resolve("c.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      // integers below 256 are exact in bf16, so the stored values are known
      NDArray a = m.arange(0, n, 1, DataType.INT32).mod(251).toType(DataType.FLOAT32, false);
      try (SafeTensorsWriter w = SafeTensorsWriter.create(f,
          List.of(new Spec("a", Dtype.BF16, new long[] {n}), new Spec("b", Dtype.F32, new long[] {n})),
          Map.of("format", "pt"))) {
        w.write("b", a); // out of file order on purpose
        w.write("a", a);
      }
      try (SafeTensors st = SafeTensors.open(f)) {
        assertTrue(st.loadFloat("a", m).eq(a).all().getBoolean());
        assertTrue(st.loadFloat("b", m).eq(a).all().getBoolean());
        assertEquals(0, st.info("b").begin()); // F32 before BF16 in the file
      }
    }
  }

  @Test
  void aNonContiguousArrayIsWrittenInLogicalOrder() throws Exception {
    Path f = dir.resolve("t.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.arange(0f, 6f, 1f).reshape(2, 3);
      NDArray t = a.transpose(); // a strided view: [[0, 3], [1, 4], [2, 5]]
      SafeTensorsWriter.write(f, Map.of("t", t), Dtype.F32);
      try (SafeTensors st = SafeTensors.open(f)) {
        assertArrayEquals(new long[] {3, 2}, st.info("t").shape());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, st.loadFloat("t", m).toFloatArray());
      }
    }
  }

  /** The two headers of the library's own serialization tests (tensor.rs), byte for byte. */
  @Test
  void headerMatchesTheLibrarysSerializationExamples() throws Exception {
    byte[] h = SafeTensorsWriter.header(List.of(new Spec("attn.0", Dtype.F32, new long[] {1, 2, 3})), null);
    assertEquals("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}",
        new String(h, StandardCharsets.UTF_8));
    assertEquals(64, h.length);
    byte[] h2 = SafeTensorsWriter.header(List.of(new Spec("attn0", Dtype.F32, new long[] {1, 1, 2, 3})), null);
    assertEquals("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
        new String(h2, StandardCharsets.UTF_8));
    assertEquals(8, SafeTensorsWriter.header(List.of(), null).length); // "{}" + 6 spaces
  }

  @Test
  void tensorsAreOrderedByDtypeAlignmentThenName() throws Exception {
    List<Spec> specs = new ArrayList<>(List.of(
        new Spec("z", Dtype.U8, new long[] {3}),
        new Spec("b", Dtype.BF16, new long[] {1}),
        new Spec("a", Dtype.BF16, new long[] {2}),
        new Spec("h", Dtype.F16, new long[] {1}),
        new Spec("f", Dtype.F32, new long[] {1}),
        new Spec("i", Dtype.I64, new long[] {}),
        new Spec("\u00e9", Dtype.BF16, new long[] {1}),
        new Spec("B", Dtype.BF16, new long[] {1})));
    Collections.shuffle(specs, new Random(3));
    Path f = dir.resolve("o.safetensors");
    try (NDManager m = NDManager.newBaseManager();
        SafeTensorsWriter w = SafeTensorsWriter.create(f, specs, Map.of("format", "pt"))) {
      for (Spec s : specs) {
        DataType t = switch (s.dtype()) {
          case U8 -> DataType.UINT8;
          case I64 -> DataType.INT64;
          default -> DataType.FLOAT32;
        };
        w.write(s.name(), m.ones(new Shape(s.shape()), t));
      }
    }
    try (SafeTensors st = SafeTensors.open(f)) {
      assertEquals(List.of("i", "f", "B", "a", "b", "\u00e9", "h", "z"), new ArrayList<>(st.tensors().keySet()));
      long offset = 0;
      for (SafeTensors.TensorInfo i : st.tensors().values()) {
        assertEquals(offset, i.begin(), i.name());
        offset = i.end();
      }
      assertEquals(Files.size(f), 8 + headerLength(f) + offset); // nothing after the last tensor
    }
  }

  /**
   * Rewriting the fixture checkpoints (saved by transformers) through the writer, from tensors given
   * in shuffled order, gives the same file byte for byte: header order, JSON, padding, metadata, data.
   */
  @Test
  void rewritingTheFixtureCheckpointsGivesIdenticalFiles() throws Exception {
    for (String name : List.of("tiny-tied", "tiny-untied")) {
      Path fixture = Path.of(getClass().getResource("/qwen25vl/" + name + "/model.safetensors").toURI());
      Path out = dir.resolve(name + ".safetensors");
      try (SafeTensors st = SafeTensors.open(fixture); NDManager m = NDManager.newBaseManager()) {
        List<Spec> specs = new ArrayList<>();
        for (SafeTensors.TensorInfo i : st.tensors().values()) {
          specs.add(new Spec(i.name(), Dtype.valueOf(i.dtype()), i.shape()));
        }
        Collections.shuffle(specs, new Random(11));
        try (SafeTensorsWriter w = SafeTensorsWriter.create(out, specs, st.metadata())) {
          for (Spec s : specs) {
            try (NDArray a = st.loadFloat(s.name(), m)) {
              w.write(s.name(), a); // bf16 → f32 → bf16 is exact
            }
          }
        }
      }
      assertEquals(headerLength(fixture), headerLength(out), name);
      assertEquals(0, headerLength(out) % 8);
      assertArrayEquals(Files.readAllBytes(fixture), Files.readAllBytes(out), name);
    }
  }

  @Test
  void anUnfinishedFileIsNotLeftBehind() throws Exception {
    Path f = dir.resolve("u.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      SafeTensorsWriter w = SafeTensorsWriter.create(f,
          List.of(new Spec("a", Dtype.F32, new long[] {2}), new Spec("b", Dtype.F32, new long[] {2})), null);
      w.write("a", m.zeros(new Shape(2)));
      assertThrows(IllegalArgumentException.class, () -> w.write("b", m.zeros(new Shape(3))));
      assertThrows(IllegalArgumentException.class, () -> w.write("a", m.zeros(new Shape(2))));
      IOException e = assertThrows(IOException.class, w::close);
      assertTrue(e.getMessage().contains("[b]"), e.getMessage());
    }
    assertFalse(Files.exists(f));
    assertFalse(Files.exists(dir.resolve("u.safetensors.partial")));
    assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.create(f,
        List.of(new Spec("a", Dtype.F32, new long[] {1}), new Spec("a", Dtype.F16, new long[] {1})), null));
  }

  static long headerLength(Path f) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(f)) {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(b, 0);
      return b.getLong(0);
    }
  }
}
