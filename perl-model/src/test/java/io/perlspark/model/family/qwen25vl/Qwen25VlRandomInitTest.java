package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.perlspark.model.hub.SafeTensors;
import io.perlspark.model.hub.SafeTensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code perl init-model}'s writer: a Hub-format folder that our loader (and so transformers' layout) accepts. */
class Qwen25VlRandomInitTest {
  @TempDir Path dir;

  @Test
  void writesALoadableSeededCheckpointWithTheHubsKeysAndInitialisation() throws Exception {
    try (QwenFixtures fx = QwenFixtures.open()) {
      Path config = fx.checkpoint("tiny-untied").resolve("config.hub-style.json");
      Path a = dir.resolve("a");
      Qwen25VlRandomInit.Summary s = Qwen25VlRandomInit.write(config, fx.folder(), a, 7,
          SafeTensorsWriter.Dtype.BF16, ShardedSafeTensorsWriterLimits.ONE_FILE);
      Qwen25VlConfig parsed = Qwen25VlConfig.load(a);
      assertTrue(Files.exists(a.resolve("tokenizer.json")) && Files.exists(a.resolve("generation_config.json")));
      assertEquals(Qwen25VlWeights.expected(parsed).values().stream().mapToLong(x -> x.size()).sum(), s.parameters());

      try (SafeTensors st = SafeTensors.open(a.resolve("model.safetensors")); NDManager m = NDManager.newBaseManager()) {
        assertEquals(Qwen25VlWeights.expected(parsed).keySet(), st.tensors().keySet().stream()
            .collect(java.util.stream.Collectors.toSet()));
        assertEquals("BF16", st.info("lm_head.weight").dtype());
        NDArray embed = st.loadFloat("model.embed_tokens.weight", m);
        double std = embed.pow(2).mean().sqrt().getFloat();
        assertEquals(0.02, std, 0.0005, "N(0, initializer_range)");
        assertEquals(1f, st.loadFloat("model.layers.0.input_layernorm.weight", m).min().getFloat());
        assertEquals(0f, st.loadFloat("model.layers.0.self_attn.q_proj.bias", m).abs().max().getFloat());
      }

      // The same seed gives the same bytes; another seed other weights.
      Path b = dir.resolve("b");
      Qwen25VlRandomInit.write(config, fx.folder(), b, 7, SafeTensorsWriter.Dtype.BF16,
          ShardedSafeTensorsWriterLimits.ONE_FILE);
      assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
      Path c = dir.resolve("c");
      Qwen25VlRandomInit.write(config, fx.folder(), c, 8, SafeTensorsWriter.Dtype.BF16,
          ShardedSafeTensorsWriterLimits.ONE_FILE);
      assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.resolve("model.safetensors")),
          Files.readAllBytes(c.resolve("model.safetensors"))));

      // Our own loader takes the folder, and the model runs.
      try (Qwen25VlModel model = Qwen25VlModel.load(a, Device.cpu())) {
        assertEquals(s.parameters(), model.parameterCount());
      }
    }
  }

  @Test
  void aSmallShardLimitWritesAnIndexAndShardsThatLoad() throws Exception {
    try (QwenFixtures fx = QwenFixtures.open()) {
      Path out = dir.resolve("sharded");
      Qwen25VlRandomInit.Summary s = Qwen25VlRandomInit.write(fx.checkpoint("tiny-tied").resolve("config.json"),
          fx.folder(), out, 1, SafeTensorsWriter.Dtype.F32, 4_000_000);
      assertTrue(s.weightFiles().size() > 1, "several shards: " + s.weightFiles());
      assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
      try (Qwen25VlModel model = Qwen25VlModel.load(out, Device.cpu())) {
        assertEquals(s.parameters(), model.parameterCount());
      }
    }
  }

  @Test
  void theShippedModelConfigsParseToTheirPublishedSizes() throws Exception {
    Path models = Path.of("..", "conf", "models");
    Qwen25VlConfig tiny = Qwen25VlConfig.load(models.resolve("qwen2_5_vl-tiny"));
    assertEquals(4_981_344L, Qwen25VlWeights.expected(tiny).values().stream().mapToLong(x -> x.size()).sum());
    Qwen25VlConfig threeB = Qwen25VlConfig.load(models.resolve("qwen2_5_vl-3b"));
    assertEquals(3_754_622_976L, Qwen25VlWeights.expected(threeB).values().stream().mapToLong(x -> x.size()).sum(),
        "Qwen2.5-VL-3B-Instruct's parameter count");
  }

  /** Shard limits of the tests. */
  static final class ShardedSafeTensorsWriterLimits {
    static final long ONE_FILE = Long.MAX_VALUE;
  }
}
