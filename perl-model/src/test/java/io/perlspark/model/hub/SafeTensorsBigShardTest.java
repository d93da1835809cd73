package io.perlspark.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.perlspark.model.hub.SafeTensorsWriter.Dtype;
import io.perlspark.model.hub.SafeTensorsWriter.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * One shard over 2 GiB (DJL's own reader stops at 2 GiB; real 7B shards are ~4 GB): written by
 * streaming, read back through {@link SafeTensors} from past the 2 GiB offset, values checked.
 * Also one tensor over 2 GiB by itself. About 2.9 GB of disk, up to ~8 GB of memory and a minute
 * or two on 2 cores, so it is a benchmark, not a unit test:
 * {@code bench/big-shard.sh} or {@code -Dperl.bench.bigShard=true} (folder: {@code
 * -Dperl.bench.dir}, default the temp dir). The file is deleted afterwards.
 */
@EnabledIfSystemProperty(named = "perl.bench.bigShard", matches = "true")
class SafeTensorsBigShardTest {
  /** 734,003,200 bytes per tensor: three F32 ones end past 2 GiB, the BF16 one lies wholly beyond. */
  private static final long N32 = 183_500_800L;
  private static final long N16 = 2 * N32;
  private static final long TWO_GIB = 1L << 31;

  /** F32 tensor k: integers below 2^24 (exact in float32), different per tensor. */
  private static NDArray f32Values(NDManager m, int k) {
    try (NDArray i = m.arange(0, (int) N32, 1, DataType.INT32); NDArray r = i.mod(65521)) {
      try (NDArray f = r.toType(DataType.FLOAT32, false)) {
        return f.add(100_000f * k);
      }
    }
  }

  /** BF16 tensor: integers in [-125, 125], exact in bfloat16, so the stored values are known. */
  private static NDArray bf16Values(NDManager m) {
    try (NDArray i = m.arange(0, (int) N16, 1, DataType.INT32); NDArray r = i.mod(251)) {
      try (NDArray f = r.toType(DataType.FLOAT32, false)) {
        return f.sub(125f);
      }
    }
  }

  @Test
  void writesAndReadsAShardLargerThan2GiB() throws Exception {
    Path dir = Files.createTempDirectory(
        Path.of(System.getProperty("perl.bench.dir", System.getProperty("java.io.tmpdir"))), "bigshard");
    Path file = dir.resolve("model.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      List<Spec> specs = List.of(
          new Spec("f0", Dtype.F32, new long[] {N32}), new Spec("f1", Dtype.F32, new long[] {N32}),
          new Spec("f2", Dtype.F32, new long[] {N32 / 1024, 1024}),
          new Spec("g", Dtype.BF16, new long[] {N16 / 2048, 2048}));
      long t0 = System.nanoTime();
      long genNanos = 0;
      try (SafeTensorsWriter w = SafeTensorsWriter.create(file, specs, Map.of("format", "pt"))) {
        for (int k = 0; k < 3; k++) {
          long g = System.nanoTime();
          try (NDArray a = f32Values(m, k); NDArray shaped = a.reshape(specs.get(k).shape())) {
            genNanos += System.nanoTime() - g;
            w.write("f" + k, shaped);
          }
        }
        long g = System.nanoTime();
        try (NDArray a = bf16Values(m); NDArray shaped = a.reshape(N16 / 2048, 2048)) {
          genNanos += System.nanoTime() - g;
          w.write("g", shaped);
        }
      }
      double writeS = (System.nanoTime() - t0 - genNanos) / 1e9;
      long size = Files.size(file);
      assertTrue(size > TWO_GIB + 700_000_000L, "file " + size);

      long loadNanos = 0;
      try (SafeTensors st = SafeTensors.open(file)) {
        SafeTensors.TensorInfo f2 = st.info("f2");
        SafeTensors.TensorInfo g = st.info("g");
        long dataStart = size - g.end();
        assertTrue(dataStart + f2.begin() < TWO_GIB && dataStart + f2.end() > TWO_GIB, "f2 spans 2 GiB");
        assertTrue(dataStart + g.begin() > TWO_GIB, "g lies beyond 2 GiB");
        long l = System.nanoTime();
        NDArray f2Back = st.loadFloat("f2", m);
        loadNanos += System.nanoTime() - l;
        try (NDArray back = f2Back; NDArray flat = back.reshape(-1);
            NDArray want = f32Values(m, 2); NDArray eq = flat.eq(want)) {
          assertTrue(eq.all().getBoolean(), "f2 differs");
          // the element at the 2 GiB offset and the last one, checked by hand as well
          long at2g = (TWO_GIB - dataStart - f2.begin()) / 4;
          assertEquals((at2g % 65521) + 200_000f, flat.getFloat(at2g));
          assertEquals(((N32 - 1) % 65521) + 200_000f, flat.getFloat(N32 - 1));
        }
        l = System.nanoTime();
        NDArray gBack = st.loadFloat("g", m);
        loadNanos += System.nanoTime() - l;
        try (NDArray back = gBack; NDArray flat = back.reshape(-1);
            NDArray want = bf16Values(m); NDArray eq = flat.eq(want)) {
          assertTrue(eq.all().getBoolean(), "g differs");
          assertEquals(((N16 - 1) % 251) - 125f, flat.getFloat(N16 - 1));
        }
      }
      double readS = loadNanos / 1e9;
      System.out.printf("big shard: %,d bytes (%.2f GiB); write %.1f s (%.0f MB/s; generating the "
          + "values %.1f s not counted); loading f2 (F32, 734 MB, spans 2 GiB) and g (BF16 widened to "
          + "F32, beyond 2 GiB) %.1f s%n", size, size / (double) (1L << 30), writeS, size / writeS / 1e6,
          genNanos / 1e9, readS);
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(dir.resolve("model.safetensors.partial"));
      Files.deleteIfExists(dir);
    }
  }

  /**
   * One F32 tensor of 2.24 GB: its own bytes exceed 2 GiB (int offsets cannot address them), and so
   * does the float32 array it loads into. Values are float32 arange, unique per position up to 2^24
   * and still distinct between chunks beyond, so a chunk read to the wrong place is caught.
   */
  @Test
  void readsASingleTensorLargerThan2GiB() throws Exception {
    long n = 560_000_000L;
    Path dir = Files.createTempDirectory(
        Path.of(System.getProperty("perl.bench.dir", System.getProperty("java.io.tmpdir"))), "bigtensor");
    Path file = dir.resolve("model.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      long t0 = System.nanoTime();
      try (NDArray a = m.arange(0f, (float) n, 1f); NDArray shaped = a.reshape(n / 1000, 1000)) {
        assertEquals(n, a.size());
        SafeTensorsWriter.write(file, Map.of("big", shaped), Dtype.F32);
      }
      double writeS = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      try (SafeTensors st = SafeTensors.open(file)) {
        assertTrue(st.info("big").end() - st.info("big").begin() > TWO_GIB);
        NDArray back = st.loadFloat("big", m);
        double loadS = (System.nanoTime() - t1) / 1e9;
        try (back; NDArray flat = back.reshape(-1); NDArray want = m.arange(0f, (float) n, 1f);
            NDArray eq = flat.eq(want)) {
          assertTrue(eq.all().getBoolean(), "big differs");
          assertEquals(12345f, flat.getFloat(12345L));
          assertEquals(want.getFloat(n - 1), flat.getFloat(n - 1));
          assertTrue(flat.getFloat(n - 1) > 5.5e8f);
        }
        System.out.printf("big tensor: %,d bytes in one F32 tensor; write %.1f s (incl. arange); "
            + "load %.1f s%n", Files.size(file), writeS, loadS);
      }
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(dir.resolve("model.safetensors.partial"));
      Files.deleteIfExists(dir);
    }
  }
}
