package io.perlspark.model.lora;

import static io.perlspark.model.lora.LoraAdaptersTest.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.policy.Engines;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraMergeTest {
  static final String M = "model.layers.0.mlp.up_proj";

  static NDArray linear(NDArray x, NDArray w) {
    return x.getNDArrayInternal().linear(x, w, null).singletonOrThrow();
  }

  @Test
  void mergedWeightGivesTheAdaptedOutput() {
    for (LoraConfig c : List.of(LoraConfig.of(8, 16), LoraConfig.of(8, 16).withRslora(true))) {
      try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
          LoraAdapters ad = LoraAdapters.create(c, List.of(new LoraAdapters.Module(M, 32, 48)), 3,
              Device.cpu())) {
        LoraAdaptersTest.randomB(ad, 4);
        float[] wv = LoraAdaptersTest.random(5, 48 * 32);
        for (int i = 0; i < wv.length; i++) {
          wv[i] *= 0.1f; // base outputs of the same order as the update
        }
        NDArray w = m.create(wv, new Shape(48, 32));
        float[] wBefore = w.toFloatArray();
        NDArray x = m.create(LoraAdaptersTest.random(6, 2 * 5 * 32), new Shape(2, 5, 32));
        NDArray merged = LoraMerge.merged(m, w, ad, M);
        assertEquals(new Shape(48, 32), merged.getShape());
        assertEquals(DataType.FLOAT32, merged.getDataType());
        float[] viaMerge = linear(x, merged).toFloatArray();
        float[] viaApply = ad.apply(M, x, linear(x, w)).toFloatArray();
        double maxDiff = 0;
        double maxDelta = 0;
        float[] base = linear(x, w).toFloatArray();
        for (int i = 0; i < viaMerge.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(viaMerge[i] - viaApply[i]));
          maxDelta = Math.max(maxDelta, Math.abs(viaApply[i] - base[i]));
        }
        assertTrue(maxDiff <= 1e-5, "max |x W'^T - apply| = " + maxDiff);
        assertTrue(maxDelta > 1e-2, "the adapter changes the output (" + maxDelta + ")");
        assertArrayEquals(bits(wBefore), bits(w.toFloatArray()), "the base is not modified");
        assertFalse(merged.hasGradient());
      }
    }
  }

  @Test
  void zeroBMergesToTheBaseExactlyAndShapesAreChecked() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
        LoraAdapters ad = LoraAdapters.create(LoraConfig.of(4, 8),
            List.of(new LoraAdapters.Module(M, 6, 10)), 1, Device.cpu())) {
      float[] wv = LoraAdaptersTest.random(2, 60);
      NDArray w = m.create(wv, new Shape(10, 6));
      assertArrayEquals(bits(wv), bits(LoraMerge.merged(m, w, ad, M).toFloatArray()));
      assertTrue(assertThrows(IllegalArgumentException.class,
          () -> LoraMerge.merged(m, m.zeros(new Shape(6, 10)), ad, M)).getMessage()
          .contains("needs [10, 6]"));
    }
  }
}
