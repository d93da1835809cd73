package io.perlspark.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.perlspark.model.learn.FlatParameters;
import io.perlspark.model.policy.Engines;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LoraAdaptersTest {
  static final String Q = "model.layers.0.self_attn.q_proj";
  static final String K = "model.layers.0.self_attn.k_proj";
  static final String DOWN = "model.layers.1.mlp.down_proj";
  static final List<LoraAdapters.Module> MODULES = List.of(
      new LoraAdapters.Module(Q, 16, 16),
      new LoraAdapters.Module(K, 16, 8),
      new LoraAdapters.Module(DOWN, 24, 16));

  NDManager m;

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
  }

  @AfterEach
  void close() {
    m.close();
  }

  static float[] random(long seed, int n) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      float f = (float) rng.nextGaussian();
      v[i] = f == 0f ? 1f : f; // no zeros: -0.0 + 0 would be +0.0 (see apply's comment)
    }
    return v;
  }

  static LoraAdapters adapters(LoraConfig c, long seed) {
    return LoraAdapters.create(c, MODULES, seed, Device.cpu());
  }

  /** Sets every B to random values (A keeps its init), so the update is not zero. */
  static void randomB(LoraAdapters ad, long seed) {
    float[] flat = ad.flat();
    SplittableRandom rng = new SplittableRandom(seed);
    int off = 0;
    for (LoraAdapters.Module mod : ad.modules()) {
      off += ad.config().r() * (int) mod.inFeatures();
      for (int i = 0; i < ad.config().r() * mod.outFeatures(); i++) {
        flat[off++] = (float) rng.nextGaussian() * 0.1f;
      }
    }
    ad.setFlat(flat);
  }

  @Test
  void atInitTheBaseOutputComesBackBitwise() {
    try (LoraAdapters ad = adapters(LoraConfig.of(4, 16), 7)) {
      for (LoraAdapters.Module mod : MODULES) {
        assertTrue(Arrays.equals(new float[4 * (int) mod.outFeatures()],
            ad.b(mod.name()).toFloatArray()), "B starts at zero");
        NDArray x = m.create(random(1, 3 * 5 * (int) mod.inFeatures()),
            new Shape(3, 5, mod.inFeatures()));
        float[] base = random(2, 3 * 5 * (int) mod.outFeatures());
        NDArray y = ad.apply(mod.name(), x, m.create(base, new Shape(3, 5, mod.outFeatures())));
        assertArrayEquals(bits(base), bits(y.toFloatArray()));
        assertEquals(new Shape(3, 5, mod.outFeatures()), y.getShape());
      }
    }
  }

  @Test
  void aIsKaimingUniformPerModuleAndSeed() {
    LoraConfig c = LoraConfig.of(8, 16);
    List<LoraAdapters.Module> wide = List.of(new LoraAdapters.Module(Q, 256, 4),
        new LoraAdapters.Module(K, 256, 4));
    try (LoraAdapters a1 = LoraAdapters.create(c, wide, 42, Device.cpu());
        LoraAdapters a2 = LoraAdapters.create(c, wide, 42, Device.cpu());
        LoraAdapters a3 = LoraAdapters.create(c, wide, 43, Device.cpu())) {
      float[] q = a1.a(Q).toFloatArray();
      double bound = 1 / Math.sqrt(256);
      double sumSq = 0;
      double max = 0;
      for (float f : q) {
        assertTrue(Math.abs(f) <= bound, f + " outside +-" + bound);
        sumSq += (double) f * f;
        max = Math.max(max, Math.abs(f));
      }
      // U(-b, b) has variance b^2/3; 2048 draws estimate it within a few percent
      assertEquals(bound * bound / 3, sumSq / q.length, 0.1 * bound * bound / 3);
      assertTrue(max > 0.95 * bound, "the draws fill the interval");
      assertEquals(new Shape(8, 256), a1.a(Q).getShape());
      assertArrayEquals(bits(q), bits(a2.a(Q).toFloatArray()), "same seed, same A");
      assertFalse(Arrays.equals(q, a3.a(Q).toFloatArray()), "another seed, another A");
      assertFalse(Arrays.equals(q, a1.a(K).toFloatArray()), "each module draws its own A");
    }
    // a module's A depends on (seed, index) only: appending modules leaves earlier ones alone
    try (LoraAdapters one = LoraAdapters.create(c, wide.subList(0, 1), 42, Device.cpu());
        LoraAdapters two = LoraAdapters.create(c, wide, 42, Device.cpu())) {
      assertArrayEquals(bits(one.a(Q).toFloatArray()), bits(two.a(Q).toFloatArray()));
    }
  }

  @Test
  void applyComputesBasePlusScaledLowRankUpdate() {
    for (LoraConfig c : List.of(LoraConfig.of(4, 16), LoraConfig.of(4, 16).withRslora(true))) {
      try (LoraAdapters ad = adapters(c, 3)) {
        randomB(ad, 9);
        float[] x = random(4, 2 * 24);
        float[] base = random(5, 2 * 16);
        float[] y = ad.apply(DOWN, m.create(x, new Shape(2, 24)), m.create(base, new Shape(2, 16)))
            .toFloatArray();
        float[] a = ad.a(DOWN).toFloatArray();
        float[] b = ad.b(DOWN).toFloatArray();
        double scale = c.useRslora() ? 16 / 2.0 : 16 / 4.0;
        assertEquals(scale, ad.scale());
        for (int n = 0; n < 2; n++) {
          for (int o = 0; o < 16; o++) {
            double acc = 0;
            for (int k = 0; k < 4; k++) {
              double xa = 0;
              for (int i = 0; i < 24; i++) {
                xa += (double) x[n * 24 + i] * a[k * 24 + i];
              }
              acc += xa * b[o * 4 + k];
            }
            assertEquals(base[n * 16 + o] + scale * acc, y[n * 16 + o], 1e-5);
          }
        }
        assertNotEquals(base[0], y[0], "the update is not zero");
      }
    }
  }

  @Test
  void gradientsReachOnlyAAndB() {
    try (LoraAdapters ad = adapters(LoraConfig.of(4, 8), 11)) {
      randomB(ad, 12); // with B = 0 the gradient of A would be zero and prove nothing
      float[] wv = random(13, 16 * 24);
      float[] xv = random(14, 3 * 24);
      float[] g;
      NDArray w;
      synchronized (Engines.TRAINING_LOCK) {
        Engines.zeroGradients(ad.parameters());
        try (NDManager step = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
            GradientCollector gc = Engines.engine().newGradientCollector()) {
          w = step.create(wv, new Shape(16, 24)); // the frozen base weight: not a parameter
          NDArray x = step.create(xv, new Shape(3, 24));
          NDArray base = x.getNDArrayInternal().linear(x, w, null).singletonOrThrow();
          gc.backward(ad.apply(DOWN, x, base).sum());
          assertFalse(w.hasGradient(), "the base weight is frozen");
          assertFalse(x.hasGradient());
        }
        g = FlatParameters.gradients(ad.parameters());
      }
      // loss = sum(y): dB[o][k] = s * sum_n (xA^T)[n][k]; dA[k][i] = s * sum_o B[o][k] * sum_n x[n][i]
      double s = 2.0;
      float[] flat = ad.flat();
      int offA = 4 * 16 + 16 * 4 + 4 * 16 + 8 * 4; // Q's A, B and K's A, B come first
      int offB = offA + 4 * 24;
      for (int k = 0; k < 4; k++) {
        double colB = 0;
        for (int o = 0; o < 16; o++) {
          colB += flat[offB + o * 4 + k];
        }
        for (int i = 0; i < 24; i++) {
          double xs = 0;
          for (int n = 0; n < 3; n++) {
            xs += xv[n * 24 + i];
          }
          assertEquals(s * colB * xs, g[offA + k * 24 + i], 1e-4);
        }
        double xa = 0;
        for (int n = 0; n < 3; n++) {
          for (int i = 0; i < 24; i++) {
            xa += (double) xv[n * 24 + i] * flat[offA + k * 24 + i];
          }
        }
        for (int o = 0; o < 16; o++) {
          assertEquals(s * xa, g[offB + o * 4 + k], 1e-4);
        }
      }
      for (int i = 0; i < offA; i++) {
        assertEquals(0f, g[i], "modules not in the forward pass get no gradient");
      }
    }
  }

  @Test
  void flatAndBytesRoundTripBitwiseInPlace() {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters src = adapters(c, 1); LoraAdapters dst = adapters(c, 2)) {
      long count = 0;
      for (LoraAdapters.Module mod : MODULES) {
        count += 4 * (mod.inFeatures() + mod.outFeatures());
      }
      assertEquals(count, src.parameterCount());
      assertEquals(count, src.flat().length);
      assertEquals(2 * MODULES.size(), src.parameters().size());
      float[] v = random(3, (int) count);
      v[0] = -0.0f;
      v[1] = Float.MIN_VALUE;
      v[2] = Float.MAX_VALUE;
      v[3] = Float.intBitsToFloat(0x7fc01234); // a NaN with a payload
      src.setFlat(v);
      assertArrayEquals(bits(v), bits(src.flat()));
      List<Parameter> before = new ArrayList<>(dst.parameters());
      List<NDArray> arrays = new ArrayList<>();
      for (Parameter p : before) {
        arrays.add(p.getArray());
      }
      dst.loadBytes(src.toBytes());
      assertArrayEquals(bits(v), bits(dst.flat()));
      for (int i = 0; i < before.size(); i++) {
        assertSame(before.get(i), dst.parameters().get(i));
        assertSame(arrays.get(i), dst.parameters().get(i).getArray(), "loaded in place");
        assertTrue(arrays.get(i).hasGradient(), "still a gradient leaf");
      }
      assertArrayEquals(src.toBytes(), dst.toBytes());
    }
  }

  @Test
  void bytesOfOtherAdaptersAreRefused() {
    try (LoraAdapters r4 = adapters(LoraConfig.of(4, 16), 1);
        LoraAdapters r2 = adapters(LoraConfig.of(2, 16), 1);
        LoraAdapters fewer = LoraAdapters.create(LoraConfig.of(4, 16), MODULES.subList(0, 2), 1,
            Device.cpu())) {
      assertThrows(IllegalArgumentException.class, () -> r4.loadBytes(r2.toBytes()));
      assertThrows(IllegalArgumentException.class, () -> r4.loadBytes(fewer.toBytes()));
      byte[] renamed = r4.toBytes();
      renamed[20] ^= 1; // inside the first module's name
      assertTrue(assertThrows(IllegalArgumentException.class, () -> r4.loadBytes(renamed))
          .getMessage().contains("other adapters"));
    }
  }

  @Test
  void unknownOrUntargetedModulesAreRefused() {
    LoraConfig c = LoraConfig.of(4, 16);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraAdapters.create(c,
        List.of(new LoraAdapters.Module("visual.blocks.0.mlp.up_proj", 8, 8)), 1, Device.cpu()))
        .getMessage().contains("not targeted"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraAdapters.create(c,
        List.of(MODULES.get(0), MODULES.get(0)), 1, Device.cpu())).getMessage().contains("twice"));
    try (LoraAdapters ad = adapters(c, 1)) {
      NDArray x = m.zeros(new Shape(1, 16));
      assertTrue(assertThrows(IllegalArgumentException.class,
          () -> ad.apply("model.layers.9.self_attn.q_proj", x, x)).getMessage()
          .contains("no LoRA adapter"));
      assertEquals(DataType.FLOAT32, ad.a(Q).getDataType());
    }
  }

  @Test
  void modulesOfPicksTargetedLinearWeightsInCheckpointOrder() {
    java.util.LinkedHashMap<String, long[]> w = new java.util.LinkedHashMap<>();
    w.put("model.embed_tokens.weight", new long[] {100, 16});
    w.put("model.layers.0.input_layernorm.weight", new long[] {16});
    w.put("model.layers.0.self_attn.q_proj.weight", new long[] {16, 16});
    w.put("model.layers.0.self_attn.q_proj.bias", new long[] {16});
    w.put("model.layers.0.self_attn.k_proj.weight", new long[] {8, 16});
    w.put("model.layers.0.mlp.down_proj.weight", new long[] {16, 24});
    w.put("visual.blocks.0.mlp.down_proj.weight", new long[] {32, 64});
    w.put("lm_head.weight", new long[] {100, 16});
    assertEquals(List.of(new LoraAdapters.Module(Q, 16, 16), new LoraAdapters.Module(K, 16, 8),
            new LoraAdapters.Module("model.layers.0.mlp.down_proj", 24, 16)),
        LoraAdapters.modulesOf(LoraConfig.of(4, 8), w));
  }

  static int[] bits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }
}
