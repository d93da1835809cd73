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
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFolderTest {
  @TempDir Path dir;

  private static List<Spec> specs(long... sizes) {
    List<Spec> out = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      out.add(new Spec("t" + i, Dtype.F32, new long[] {sizes[i] / 4}));
    }
    return out;
  }

  private static List<List<String>> names(List<List<Spec>> plan) {
    return plan.stream().map(s -> s.stream().map(Spec::name).collect(Collectors.toList()))
        .collect(Collectors.toList());
  }

  @Test
  void planFillsShardsInOrderAndGivesOversizeTensorsTheirOwn() {
    // limit 100 bytes: 40+40 fit, +40 tips over; 200 is over the limit and goes alone at once,
    // while the open shard stays open (huggingface_hub's behaviour)
    List<List<Spec>> plan = ShardedSafeTensorsWriter.plan(specs(40, 40, 40, 200, 60, 100), 100);
    assertEquals(List.of(List.of("t0", "t1"), List.of("t3"), List.of("t2", "t4"), List.of("t5")),
        names(plan));
    assertEquals(1, ShardedSafeTensorsWriter.plan(specs(40, 60), 100).size());
  }

  @Test
  void shardedRoundTripWithIndexAsTransformersWritesIt() throws Exception {
    Path out = dir.resolve("ckpt");
    Map<String, float[]> values = new LinkedHashMap<>();
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      String[] names = {"model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight",
          "model.layers.0.input_layernorm.weight", "lm_head.weight", "model.norm.weight"};
      long[][] shapes = {{40, 8}, {16, 8}, {8}, {40, 8}, {8}};
      for (int i = 0; i < names.length; i++) {
        NDArray a = m.randomNormal(new Shape(shapes[i])).mul(3);
        tensors.put(names[i], a);
        values.put(names[i], a.toFloatArray());
      }
      tensors.put("ids", m.arange(0, 6, 1, DataType.INT64));
      // 40x8 BF16 = 640 bytes: a 700-byte limit forces several shards
      ShardedSafeTensorsWriter.Result r = ShardedSafeTensorsWriter.write(out, tensors, Dtype.BF16, 700);
      assertEquals(4, r.files().size());
      assertEquals(List.of("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
          "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"),
          r.files().stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()));
      long total = 640 + 256 + 16 + 640 + 16 + 48;
      assertEquals(total, r.totalSize());
      assertFalse(Files.exists(out.resolve("model.safetensors")));

      String expectedIndex = "{\n"
          + "  \"metadata\": {\n"
          + "    \"total_size\": " + total + "\n"
          + "  },\n"
          + "  \"weight_map\": {\n"
          + "    \"ids\": \"model-00004-of-00004.safetensors\",\n"
          + "    \"lm_head.weight\": \"model-00003-of-00004.safetensors\",\n"
          + "    \"model.embed_tokens.weight\": \"model-00001-of-00004.safetensors\",\n"
          + "    \"model.layers.0.input_layernorm.weight\": \"model-00002-of-00004.safetensors\",\n"
          + "    \"model.layers.0.mlp.up_proj.weight\": \"model-00002-of-00004.safetensors\",\n"
          + "    \"model.norm.weight\": \"model-00003-of-00004.safetensors\"\n"
          + "  }\n"
          + "}\n";
      assertEquals(expectedIndex, Files.readString(out.resolve("model.safetensors.index.json")));

      try (SafeTensorsFolder f = SafeTensorsFolder.open(out)) {
        assertEquals(List.of("ids", "lm_head.weight", "model.embed_tokens.weight",
            "model.layers.0.input_layernorm.weight", "model.layers.0.mlp.up_proj.weight",
            "model.norm.weight"), f.names());
        assertEquals(4, f.files().size());
        assertEquals(total, f.totalSize());
        assertEquals("model-00003-of-00004.safetensors", f.fileOf("lm_head.weight").file().getFileName().toString());
        for (Map.Entry<String, float[]> e : values.entrySet()) {
          assertEquals("BF16", f.info(e.getKey()).dtype());
          float[] back = f.loadFloat(e.getKey(), m).toFloatArray();
          float[] want = e.getValue();
          for (int i = 0; i < want.length; i++) {
            assertEquals(SafeTensorsWriterTest.referenceBf16(want[i]) << 16,
                Float.floatToRawIntBits(back[i]), e.getKey() + "[" + i + "]");
          }
        }
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5}, f.load("ids", m, DataType.INT64).toLongArray());
        assertThrows(IllegalArgumentException.class, () -> f.info("nope"));
      }

      // a second, smaller save into the same folder replaces the shards with one file
      ShardedSafeTensorsWriter.Result single = ShardedSafeTensorsWriter.write(out,
          Map.of("w", m.ones(new Shape(4))), Dtype.F32, ShardedSafeTensorsWriter.DEFAULT_MAX_SHARD_BYTES);
      assertEquals(List.of(out.resolve("model.safetensors")), single.files());
      try (var ls = Files.list(out)) {
        assertEquals(List.of("model.safetensors"),
            ls.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
      }
      try (SafeTensorsFolder f = SafeTensorsFolder.open(out)) {
        assertEquals(List.of("w"), f.names());
        assertArrayEquals(new float[] {1, 1, 1, 1}, f.loadFloat("w", m).toFloatArray());
      }
    }
  }

  @Test
  void closeClosesEveryShard() throws Exception {
    Path out = dir.resolve("c");
    try (NDManager m = NDManager.newBaseManager()) {
      ShardedSafeTensorsWriter.write(out, Map.of("a", m.ones(new Shape(4)), "b", m.ones(new Shape(4))),
          Dtype.F32, 16);
      SafeTensorsFolder f = SafeTensorsFolder.open(out);
      assertEquals(2, f.files().size());
      f.close();
      for (String n : f.names()) {
        assertThrows(ClosedChannelException.class, () -> f.loadFloat(n, m));
      }
    }
  }

  /** Two shards {a, b} and {c} written by hand, then the index replaced by {@code index}. */
  private Path brokenFolder(String index) throws IOException {
    Path out = dir.resolve("broken");
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("a", m.ones(new Shape(2)));
      t.put("b", m.ones(new Shape(2)));
      t.put("c", m.ones(new Shape(4)));
      ShardedSafeTensorsWriter.write(out, t, Dtype.F32, 16);
    }
    Files.writeString(out.resolve("model.safetensors.index.json"), index);
    return out;
  }

  private static String index(String weightMap) {
    return "{\"metadata\": {\"total_size\": 32}, \"weight_map\": {" + weightMap + "}}";
  }

  private static String openFails(Path folder) {
    return assertThrows(IOException.class, () -> SafeTensorsFolder.open(folder).close()).getMessage();
  }

  @Test
  void theFolderAsWrittenOpens() throws Exception {
    Path out = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\""));
    try (SafeTensorsFolder f = SafeTensorsFolder.open(out)) {
      assertEquals(List.of("a", "b", "c"), f.names());
    }
  }

  @Test
  void aMissingShardIsNamed() throws Exception {
    Path out = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\""));
    Files.delete(out.resolve("model-00002-of-00002.safetensors"));
    String msg = openFails(out);
    assertTrue(msg.contains("model-00002-of-00002.safetensors") && msg.contains("tensor c")
        && msg.contains("does not exist"), msg);
  }

  @Test
  void aShardListedTwiceUnderTwoSpellingsIsRefused() throws Exception {
    Path out = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"b\": \"./model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\""));
    String msg = openFails(out);
    assertTrue(msg.contains("listed twice"), msg);
  }

  @Test
  void aTensorInTwoShardsIsRefused() throws Exception {
    Path out = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\""));
    // shard 2 rewritten to hold "a" as well
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      t.put("a", m.ones(new Shape(2)));
      t.put("c", m.ones(new Shape(4)));
      SafeTensorsWriter.write(out.resolve("model-00002-of-00002.safetensors"), t, Dtype.F32);
    }
    String msg = openFails(out);
    assertTrue(msg.contains("tensor a is in two shards"), msg);
  }

  @Test
  void aTensorNameListedTwiceInTheIndexIsRefused() throws Exception {
    Path out = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\", "
        + "\"a\": \"model-00002-of-00002.safetensors\""));
    String msg = openFails(out);
    assertTrue(msg.contains("Duplicate field 'a'"), msg);
  }

  @Test
  void indexAndShardsThatDisagreeAreRefused() throws Exception {
    Path wrongShard = brokenFolder(index("\"a\": \"model-00002-of-00002.safetensors\", "
        + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\""));
    assertTrue(openFails(wrongShard).contains("the index puts it in model-00002"), openFails(wrongShard));
    Path unlisted = brokenFolder(index("\"a\": \"model-00001-of-00002.safetensors\", "
        + "\"c\": \"model-00002-of-00002.safetensors\""));
    assertTrue(openFails(unlisted).contains("tensor b") , openFails(unlisted));
    Path outside = brokenFolder(index("\"a\": \"../model-00001-of-00002.safetensors\""));
    assertTrue(openFails(outside).contains("outside the folder"), openFails(outside));
    assertTrue(openFails(dir).contains("no model.safetensors"), openFails(dir));
  }

  @Test
  void readsTheFixtureFolder() throws Exception {
    Path fixture = Path.of(getClass().getResource("/qwen25vl/tiny-untied/model.safetensors").toURI()).getParent();
    try (SafeTensorsFolder f = SafeTensorsFolder.open(fixture); NDManager m = NDManager.newBaseManager()) {
      assertTrue(f.contains("lm_head.weight"));
      assertEquals(1, f.files().size());
      assertEquals(151936, f.info("lm_head.weight").shape()[0]);
      assertEquals(new Shape(f.info("lm_head.weight").shape()), f.loadFloat("lm_head.weight", m).getShape());
    }
  }
}
