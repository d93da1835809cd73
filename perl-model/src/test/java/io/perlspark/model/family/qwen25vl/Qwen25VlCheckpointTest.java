package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config parsing in both layouts, and checkpoint loading: v5 key names, shards, and errors that
 * name the missing, unexpected or mis-shaped tensor. Broken checkpoints are made by rewriting the
 * safetensors header of a fixture checkpoint (the data bytes are kept).
 */
class Qwen25VlCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static QwenFixtures fx;

  @TempDir Path tmp;

  @BeforeAll
  static void open() {
    fx = QwenFixtures.open();
  }

  @AfterAll
  static void close() throws IOException {
    fx.close();
  }

  // ------------------------------------------------------------------ config

  @Test
  void configLoadsIdenticallyFromBothLayouts() throws IOException {
    for (String ckpt : Qwen25VlParityTest.CHECKPOINTS) {
      Path folder = fx.checkpoint(ckpt);
      Qwen25VlConfig nested = Qwen25VlConfig.load(folder);
      Qwen25VlConfig flat = Qwen25VlConfig.parse(
          folder.resolve("config.hub-style.json"), folder.resolve("generation_config.json"));
      assertEquals(nested, flat, ckpt);
      assertArrayEquals(new int[] {151645, 151643}, nested.eosTokenIds());
      assertEquals(151643, nested.padTokenId());
    }
    Qwen25VlConfig tied = Qwen25VlConfig.load(fx.checkpoint("tiny-tied"));
    assertTrue(tied.tieWordEmbeddings());
    assertEquals(32, tied.hiddenSize());
    assertEquals(2, tied.numKvHeads());
    assertEquals(8, tied.headDim());
    assertArrayEquals(new int[] {1, 1, 2}, tied.mropeSection());
    assertEquals(1e6, tied.ropeTheta());
    assertArrayEquals(new int[] {1, 3}, tied.vision().fullAttentionBlocks());
    assertEquals(1176, tied.vision().patchDim());
    assertEquals(2, tied.vision().mergedWindow());
    Qwen25VlConfig untied = Qwen25VlConfig.load(fx.checkpoint("tiny-untied"));
    assertFalse(untied.tieWordEmbeddings());
    assertArrayEquals(new int[] {2, 1, 1}, untied.mropeSection());
  }

  /**
   * The published Hub configs of Qwen2.5-VL-3B/7B-Instruct (flat layout, values from the fixture
   * README): they parse, and the expected tensors add up to the checkpoints' published parameter
   * counts (3,754,622,976 and 8,292,166,656), so names and shapes hold at real sizes too.
   */
  @Test
  void realHubConfigsParseAndGiveThePublishedParameterCounts() throws IOException {
    String vision = "\"vision_config\": {\"depth\": 32, \"hidden_act\": \"silu\","
        + " \"hidden_size\": 1280, \"intermediate_size\": 3420, \"num_heads\": 16,"
        + " \"in_chans\": 3, \"out_hidden_size\": %d, \"patch_size\": 14,"
        + " \"spatial_merge_size\": 2, \"spatial_patch_size\": 14, \"window_size\": 112,"
        + " \"fullatt_block_indexes\": [7, 15, 23, 31], \"tokens_per_second\": 2,"
        + " \"temporal_patch_size\": 2}";
    String text = "{\"hidden_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d,"
        + " \"num_key_value_heads\": %d, \"intermediate_size\": %d, \"vocab_size\": %d,"
        + " \"tie_word_embeddings\": %b, \"rope_theta\": 1000000.0, \"rms_norm_eps\": 1e-06,"
        + " \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [16, 24, 24]},"
        + " \"bos_token_id\": 151643, \"eos_token_id\": 151645, \"image_token_id\": 151655,"
        + " \"video_token_id\": 151656, \"vision_start_token_id\": 151652,"
        + " \"vision_end_token_id\": 151653, " + vision + "}";
    Qwen25VlConfig threeB = Qwen25VlConfig.fromJson(JSON.readTree(
        String.format(text, 2048, 36, 16, 2, 11008, 151936, true, 2048)), null);
    Qwen25VlConfig sevenB = Qwen25VlConfig.fromJson(JSON.readTree(
        String.format(text, 3584, 28, 28, 4, 18944, 152064, false, 3584)), null);
    assertEquals(128, threeB.headDim());
    assertEquals(80, threeB.vision().headDim());
    assertEquals(4, threeB.vision().mergedWindow());
    assertArrayEquals(new int[] {151645}, threeB.eosTokenIds());
    assertEquals(3_754_622_976L, count(threeB));
    assertEquals(8_292_166_656L, count(sevenB));
    assertFalse(Qwen25VlWeights.expected(threeB).containsKey("lm_head.weight"));
    assertTrue(Qwen25VlWeights.expected(sevenB).containsKey("lm_head.weight"));
  }

  private static long count(Qwen25VlConfig c) {
    return Qwen25VlWeights.expected(c).values().stream().mapToLong(s -> s.size()).sum();
  }

  @Test
  void generationConfigWithOneEosIdIsRead() throws IOException {
    Path gen = tmp.resolve("generation_config.json");
    Files.writeString(gen, "{\"eos_token_id\": 151645}");
    Qwen25VlConfig c = Qwen25VlConfig.parse(fx.checkpoint("tiny-tied").resolve("config.json"), gen);
    assertArrayEquals(new int[] {151645}, c.eosTokenIds());
    Qwen25VlConfig noGen =
        Qwen25VlConfig.parse(fx.checkpoint("tiny-tied").resolve("config.json"), null);
    assertArrayEquals(new int[] {151645}, noGen.eosTokenIds()); // text_config.eos_token_id
  }

  @Test
  void configErrorsNameTheKey() throws IOException {
    ObjectNode flat = (ObjectNode) JSON.readTree(
        fx.checkpoint("tiny-tied").resolve("config.hub-style.json").toFile());
    ObjectNode noHidden = flat.deepCopy();
    noHidden.remove("hidden_size");
    assertMessage(noHidden, "hidden_size");
    ObjectNode noMrope = flat.deepCopy();
    noMrope.remove("rope_scaling");
    assertMessage(noMrope, "mrope_section");
    ObjectNode badSection = flat.deepCopy();
    ((ArrayNode) badSection.get("rope_scaling").get("mrope_section")).set(0, 3);
    assertMessage(badSection, "mrope_section");
    ObjectNode badFull = flat.deepCopy();
    ((ArrayNode) badFull.get("vision_config").get("fullatt_block_indexes")).add(9);
    assertMessage(badFull, "fullatt_block_indexes");
    ObjectNode badKv = flat.deepCopy();
    badKv.put("num_key_value_heads", 3);
    assertMessage(badKv, "num_key_value_heads");
    ObjectNode noVision = flat.deepCopy();
    noVision.remove("vision_config");
    assertMessage(noVision, "vision_config");
  }

  private static void assertMessage(ObjectNode config, String key) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Qwen25VlConfig.fromJson(config, null));
    assertTrue(e.getMessage().contains(key), e.getMessage() + " should name " + key);
  }

  // ------------------------------------------------------------------ weights

  @Test
  void parameterNamesAndOrderAreTheHubNames() throws IOException {
    Path folder = fx.checkpoint("tiny-tied");
    // keys.txt: "name<TAB>dtype<TAB>AxB" per tensor of the file, after a '#' comment line.
    Map<String, String> keyShapes = new LinkedHashMap<>();
    for (String line : Files.readAllLines(folder.resolve("keys.txt"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String[] f = line.trim().split("\\s+");
        keyShapes.put(f[0], f[2]);
      }
    }
    List<String> keys = new ArrayList<>(keyShapes.keySet());
    try (Qwen25VlModel model = Qwen25VlModel.load(folder, Device.cpu())) {
      List<String> names = model.parameters().stream().map(Parameter::getName).toList();
      assertEquals(Qwen25VlWeights.names(model.config()), names);
      assertEquals(new java.util.TreeSet<>(keys), new java.util.TreeSet<>(names));
      for (Parameter p : model.parameters()) {
        String shape = java.util.Arrays.stream(p.getArray().getShape().getShape())
            .mapToObj(Long::toString).collect(java.util.stream.Collectors.joining("x"));
        assertEquals(keyShapes.get(p.getName()), shape, p.getName());
        assertTrue(p.getArray().hasGradient() || p.requiresGradient(), p.getName());
      }
      assertEquals("model.embed_tokens.weight", names.get(0));
      assertFalse(names.contains("lm_head.weight"), "tied: the head is the embedding");
      long count = fx.json().get("checkpoints").get("tiny-tied").get("n_params").asLong();
      assertEquals(count, model.parameterCount());

      // Flat layout: parameters() order, row-major; writes go in place into the same arrays.
      float[] flat = model.flatParameters();
      assertEquals(count, flat.length);
      float[] embedding = model.parameter("model.embed_tokens.weight").getArray().toFloatArray();
      assertArrayEquals(embedding, java.util.Arrays.copyOf(flat, embedding.length), 0f);
      Parameter last = model.parameters().get(model.parameters().size() - 1);
      float[] changed = flat.clone();
      changed[flat.length - 1] += 1f;
      model.setFlatParameters(changed);
      assertTrue(last == model.parameter(last.getName()));
      float[] lastValues = last.getArray().toFloatArray();
      assertEquals(flat[flat.length - 1] + 1f, lastValues[lastValues.length - 1], 0f);
      model.setFlatParameters(flat);
      assertArrayEquals(flat, model.flatParameters(), 0f);
    }
  }

  @Test
  void v5KeyNamesAndShardsLoadTheSameWeights() throws IOException {
    Path source = fx.checkpoint("tiny-untied");
    Path v5 = copyConfig(source, tmp.resolve("v5"));
    rewrite(source.resolve("model.safetensors"), v5.resolve("model.safetensors"), header -> {
      ObjectNode renamed = JSON.createObjectNode();
      header.fields().forEachRemaining(e -> {
        String k = e.getKey();
        String n = k.startsWith("model.") ? "model.language_model." + k.substring(6)
            : k.startsWith("visual.") ? "model." + k : k;
        renamed.set(n, e.getValue());
      });
      header.removeAll();
      header.setAll(renamed);
    });
    Path sharded = copyConfig(source, tmp.resolve("sharded"));
    Map<String, String> weightMap = new LinkedHashMap<>();
    for (int shard = 0; shard < 2; shard++) {
      String file = "model-0000" + (shard + 1) + "-of-00002.safetensors";
      boolean visualShard = shard == 1;
      rewrite(source.resolve("model.safetensors"), sharded.resolve(file), header -> {
        for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!k.equals("__metadata__") && k.startsWith("visual.") != visualShard) {
            it.remove();
          }
        }
        header.fieldNames().forEachRemaining(k -> {
          if (!k.equals("__metadata__")) {
            weightMap.put(k, file);
          }
        });
      });
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata");
    ObjectNode map = index.putObject("weight_map");
    weightMap.forEach(map::put);
    Files.writeString(sharded.resolve("model.safetensors.index.json"), index.toString());

    try (Qwen25VlModel reference = Qwen25VlModel.load(source, Device.cpu());
        Qwen25VlModel fromV5 = Qwen25VlModel.load(v5, Device.cpu());
        Qwen25VlModel fromShards = Qwen25VlModel.load(sharded, Device.cpu())) {
      List<Parameter> ref = reference.parameters();
      for (Qwen25VlModel other : List.of(fromV5, fromShards)) {
        assertEquals(ref.size(), other.parameters().size());
        for (int i = 0; i < ref.size(); i++) {
          assertEquals(ref.get(i).getName(), other.parameters().get(i).getName());
          assertArrayEquals(ref.get(i).getArray().toFloatArray(),
              other.parameters().get(i).getArray().toFloatArray(), 0f, ref.get(i).getName());
        }
      }
    }
  }

  @Test
  void missingUnexpectedAndMisShapedTensorsAreNamed() throws IOException {
    Path source = fx.checkpoint("tiny-tied");
    String victim = "model.layers.1.self_attn.k_proj.bias";

    Path missing = copyConfig(source, tmp.resolve("missing"));
    rewrite(source.resolve("model.safetensors"), missing.resolve("model.safetensors"),
        header -> header.remove(victim));
    assertLoadFails(missing, victim, "missing");

    Path misShaped = copyConfig(source, tmp.resolve("misshaped"));
    rewrite(source.resolve("model.safetensors"), misShaped.resolve("model.safetensors"),
        header -> {
          ArrayNode shape = (ArrayNode) header.get(victim).get("shape");
          long n = shape.get(0).asLong();
          shape.removeAll();
          shape.add(2).add(n / 2); // same byte count, wrong shape
        });
    assertLoadFails(misShaped, victim, "model.safetensors");

    Path unexpected = copyConfig(source, tmp.resolve("unexpected"));
    rewrite(source.resolve("model.safetensors"), unexpected.resolve("model.safetensors"),
        header -> header.set("model.layers.7.extra.weight", header.get(victim).deepCopy()));
    assertLoadFails(unexpected, "model.layers.7.extra.weight", "unexpected");

    // An untied config over a tied checkpoint: the head is missing.
    Path noHead = copyConfig(source, tmp.resolve("nohead"));
    ObjectNode config = (ObjectNode) JSON.readTree(noHead.resolve("config.json").toFile());
    config.put("tie_word_embeddings", false);
    Files.writeString(noHead.resolve("config.json"), config.toString());
    Files.copy(source.resolve("model.safetensors"), noHead.resolve("model.safetensors"));
    assertLoadFails(noHead, "lm_head.weight", "missing");

    Path empty = copyConfig(source, tmp.resolve("empty"));
    assertLoadFails(empty, "model.safetensors", "no model.safetensors");
  }

  private static void assertLoadFails(Path folder, String... fragments) {
    IOException e = assertThrows(IOException.class, () -> {
      try (Qwen25VlModel m = Qwen25VlModel.load(folder, Device.cpu())) {
        // must not load
      }
    });
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), e.getMessage() + " should contain " + f);
    }
  }

  private static Path copyConfig(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (String f : List.of("config.json", "generation_config.json")) {
      Files.copy(from.resolve(f), to.resolve(f));
    }
    return to;
  }

  /** Copies a safetensors file with its JSON header edited; tensor data bytes are unchanged. */
  static void rewrite(Path from, Path to, Consumer<ObjectNode> edit) throws IOException {
    byte[] all = Files.readAllBytes(from);
    long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ObjectNode header = (ObjectNode) JSON.readTree(
        new String(all, 8, (int) headerLength, StandardCharsets.UTF_8));
    edit.accept(header);
    byte[] newHeader = header.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(8 + newHeader.length + all.length - 8 - (int) headerLength)
        .order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(newHeader.length).put(newHeader).put(all, 8 + (int) headerLength,
        all.length - 8 - (int) headerLength);
    Files.write(to, out.array());
  }
}
