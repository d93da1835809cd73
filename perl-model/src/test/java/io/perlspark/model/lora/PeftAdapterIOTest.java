package io.perlspark.model.lora;

import static io.perlspark.model.lora.LoraAdaptersTest.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.model.hub.SafeTensors;
import io.perlspark.model.hub.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterIOTest {
  static final ObjectMapper JSON = new ObjectMapper();
  // layer 10 before layer 2: the given order is neither the file's (sorted) nor natural order
  static final List<LoraAdapters.Module> MODULES = List.of(
      new LoraAdapters.Module("model.layers.10.mlp.down_proj", 12, 8),
      new LoraAdapters.Module("model.layers.2.self_attn.q_proj", 8, 8),
      new LoraAdapters.Module("model.layers.2.self_attn.v_proj", 8, 4));

  @TempDir
  Path tmp;

  static LoraAdapters trained(LoraConfig c) {
    LoraAdapters ad = LoraAdapters.create(c, MODULES, 5, Device.cpu());
    ad.setFlat(LoraAdaptersTest.random(6, (int) ad.parameterCount())); // as if trained
    return ad;
  }

  @Test
  void writesPeftKeysDtypeAndConfig() throws IOException {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "Qwen/Qwen2.5-VL-3B-Instruct");
      try (SafeTensors st = SafeTensors.open(tmp.resolve("adapter_model.safetensors"))) {
        Set<String> expected = new TreeSet<>();
        for (LoraAdapters.Module m : MODULES) {
          expected.add("base_model.model." + m.name() + ".lora_A.weight");
          expected.add("base_model.model." + m.name() + ".lora_B.weight");
        }
        assertEquals(expected, new TreeSet<>(st.tensors().keySet()), "no adapter name 'default'");
        for (SafeTensors.TensorInfo t : st.tensors().values()) {
          assertEquals("F32", t.dtype());
        }
        assertArrayEquals(new long[] {4, 12},
            st.info("base_model.model.model.layers.10.mlp.down_proj.lora_A.weight").shape());
        assertArrayEquals(new long[] {8, 4},
            st.info("base_model.model.model.layers.10.mlp.down_proj.lora_B.weight").shape());
        assertEquals("pt", st.metadata().get("format"));
      }
      JsonNode cfg = JSON.readTree(tmp.resolve("adapter_config.json").toFile());
      assertEquals("LORA", cfg.get("peft_type").asText());
      assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
      assertEquals(4, cfg.get("r").asInt());
      assertTrue(cfg.get("lora_alpha").isIntegralNumber(), "PEFT types lora_alpha as int");
      assertEquals(16, cfg.get("lora_alpha").asInt());
      assertEquals(0.0, cfg.get("lora_dropout").asDouble());
      assertEquals("none", cfg.get("bias").asText());
      assertFalse(cfg.get("use_rslora").asBoolean());
      assertFalse(cfg.get("use_dora").asBoolean());
      assertFalse(cfg.get("fan_in_fan_out").asBoolean());
      assertTrue(cfg.get("init_lora_weights").asBoolean());
      assertTrue(cfg.get("inference_mode").asBoolean());
      assertTrue(cfg.get("modules_to_save").isNull(), "vLLM refuses modules_to_save");
      assertEquals("Qwen/Qwen2.5-VL-3B-Instruct", cfg.get("base_model_name_or_path").asText());
      String targets = cfg.get("target_modules").asText();
      assertTrue(Pattern.matches(targets, "model.layers.5.mlp.gate_proj"));
      assertFalse(Pattern.matches(targets, "visual.blocks.0.mlp.gate_proj"));
      List<String> keys = new ArrayList<>();
      cfg.fieldNames().forEachRemaining(keys::add);
      assertEquals(new ArrayList<>(new TreeSet<>(keys)), keys, "sorted keys, as PEFT writes");
    }
  }

  @Test
  void configTextIsLaidOutAsPythonsJsonDumps() throws IOException {
    // PEFT writes json.dumps(d, indent=2, sort_keys=True); checked against Python for these lines
    LoraConfig c = LoraConfig.of(4, 16).withTargets(List.of("down_proj", "q_proj", "v_proj"))
        .withExcludeVision(false);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "base");
      String text = Files.readString(tmp.resolve("adapter_config.json"));
      assertTrue(text.startsWith("{\n  \"alpha_pattern\": {},\n  \"base_model_name_or_path\": \"base\",\n"),
          text);
      assertTrue(text.contains("\n  \"target_modules\": [\n    \"down_proj\",\n    \"q_proj\",\n"
          + "    \"v_proj\"\n  ],\n"), text);
      assertTrue(text.endsWith("\n  \"use_rslora\": false\n}"), text);
    }
  }

  @Test
  void roundTripIsBitwiseInTheSameOrder() throws IOException {
    for (LoraConfig c : List.of(LoraConfig.of(4, 16), LoraConfig.of(4, 6.5).withRslora(true),
        LoraConfig.of(4, 8).withTargets(List.of("down_proj", "q_proj", "v_proj"))
            .withExcludeVision(false))) {
      Path dir = tmp.resolve("a" + c.hashCode());
      try (LoraAdapters ad = trained(c)) {
        PeftAdapterIO.write(dir, ad, c, "base");
        try (PeftAdapterIO.Adapter back = PeftAdapterIO.read(dir)) {
          assertEquals(MODULES, back.adapters().modules());
          assertArrayEquals(bits(ad.flat()), bits(back.adapters().flat()));
          assertEquals(ad.scale(), back.adapters().scale());
          assertEquals(c.useRslora(), back.config().useRslora());
          assertEquals("base", back.baseModelNameOrPath());
          for (String n : LoraConfigTest.qwenModules("model.", "visual.")) {
            assertEquals(c.targets(n), back.config().targets(n), n);
          }
          // written again, the same bytes
          Path again = tmp.resolve("b" + c.hashCode());
          PeftAdapterIO.write(again, back.adapters(), back.config(), "base");
          assertArrayEquals(Files.readAllBytes(dir.resolve("adapter_model.safetensors")),
              Files.readAllBytes(again.resolve("adapter_model.safetensors")));
          assertArrayEquals(Files.readAllBytes(dir.resolve("adapter_config.json")),
              Files.readAllBytes(again.resolve("adapter_config.json")));
        }
        List<LoraAdapters.Module> reordered = List.of(MODULES.get(2), MODULES.get(0), MODULES.get(1));
        try (PeftAdapterIO.Adapter back = PeftAdapterIO.read(dir, reordered, Device.cpu())) {
          assertEquals(reordered, back.adapters().modules());
          for (LoraAdapters.Module m : MODULES) {
            assertArrayEquals(bits(ad.b(m.name()).toFloatArray()),
                bits(back.adapters().b(m.name()).toFloatArray()));
          }
        }
      }
    }
  }

  @Test
  void bf16IsOfferedAndRounds() throws IOException {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "base", SafeTensorsWriter.Dtype.BF16);
      try (SafeTensors st = SafeTensors.open(tmp.resolve("adapter_model.safetensors"))) {
        assertEquals("BF16", st.info("base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight").dtype());
      }
      try (PeftAdapterIO.Adapter back = PeftAdapterIO.read(tmp)) {
        float[] v = ad.flat();
        float[] r = back.adapters().flat();
        for (int i = 0; i < v.length; i++) {
          assertEquals(SafeTensorsWriter.bf16Bits(v[i]) << 16, Float.floatToRawIntBits(r[i]));
        }
      }
    }
  }

  @Test
  void readsNaturalOrderWithoutOurMetadata() throws IOException {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "base");
      rewriteWeights(tmp, ad, null);
      try (PeftAdapterIO.Adapter back = PeftAdapterIO.read(tmp)) {
        assertEquals(List.of(MODULES.get(1).name(), MODULES.get(2).name(), MODULES.get(0).name()),
            back.adapters().modules().stream().map(LoraAdapters.Module::name).toList());
        assertArrayEquals(bits(ad.a(MODULES.get(0).name()).toFloatArray()),
            bits(back.adapters().a(MODULES.get(0).name()).toFloatArray()));
      }
    }
  }

  @Test
  void refusesWhatItCannotLoad() throws IOException {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "base");
      // the model's module has other sizes
      List<LoraAdapters.Module> other = new ArrayList<>(MODULES);
      other.set(1, new LoraAdapters.Module(MODULES.get(1).name(), 8, 16));
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp, other, Device.cpu()))
          .getMessage().contains("out_features"));
      assertTrue(assertThrows(IOException.class,
          () -> PeftAdapterIO.read(tmp, MODULES.subList(0, 2), Device.cpu())).getMessage()
          .contains("does not adapt"));

      editConfig(tmp, cfg -> cfg.put("peft_type", "IA3"));
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp)).getMessage()
          .contains("only LORA"));
      editConfig(tmp, cfg -> cfg.put("peft_type", "LORA").put("use_dora", true));
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp)).getMessage()
          .contains("DoRA"));
      editConfig(tmp, cfg -> cfg.put("use_dora", false).put("r", 8));
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp)).getMessage()
          .contains("must be [8, in]"));
      editConfig(tmp, cfg -> cfg.put("r", 4).putArray("target_modules").add("q_proj").add("v_proj"));
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp)).getMessage()
          .contains("model.layers.10.mlp.down_proj is not targeted"));
      editConfig(tmp, cfg -> cfg.putArray("target_modules").add("q_proj").add("v_proj").add("down_proj"));
      try (PeftAdapterIO.Adapter ok = PeftAdapterIO.read(tmp)) {
        assertEquals(3, ok.adapters().modules().size(), "the edits were undone");
      }

      // a lora_B without its lora_A
      Map<String, String> drop = Map.of("base_model.model.model.layers.2.self_attn.v_proj.lora_A.weight", "");
      rewriteWeights(tmp, ad, drop);
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp)).getMessage()
          .contains("no lora_A"));
    }
  }

  /** A model nested one level deeper in PEFT's view than in ours (as Qwen2.5-VL's decoder is). */
  static final PeftModuleNames NESTED = new PeftModuleNames() {
    @Override
    public String toPeft(String module) {
      return module.replaceFirst("^model\\.", "model.inner.");
    }

    @Override
    public String fromPeft(String peftModule) {
      return peftModule.replaceFirst("^model\\.inner\\.", "model.");
    }
  };

  @Test
  void writesPeftsNamesAndReadsThemBackAsOurs() throws IOException {
    LoraConfig c = LoraConfig.of(4, 16);
    try (LoraAdapters ad = trained(c)) {
      PeftAdapterIO.write(tmp, ad, c, "base", SafeTensorsWriter.Dtype.F32, NESTED);
      try (SafeTensors st = SafeTensors.open(tmp.resolve("adapter_model.safetensors"))) {
        assertTrue(st.tensors().containsKey(
            "base_model.model.model.inner.layers.10.mlp.down_proj.lora_A.weight"));
        assertEquals(6, st.tensors().size());
        assertEquals("model.inner.layers.10.mlp.down_proj",
            st.metadata().get(PeftAdapterIO.ORDER_KEY).split("\n")[0], "the order in PEFT's names");
      }
      // read back under our names (the default target regex matches both)
      try (PeftAdapterIO.Adapter back = PeftAdapterIO.read(tmp, NESTED)) {
        assertArrayEquals(ad.toBytes(), back.adapters().toBytes(), "our names, our order, bit for bit");
      }
      try (PeftAdapterIO.Adapter asIs = PeftAdapterIO.read(tmp)) {
        assertEquals("model.inner.layers.10.mlp.down_proj", asIs.adapters().modules().get(0).name());
      }
      // one module under both layouts is ambiguous
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      for (LoraAdapters.Module m : ad.modules()) {
        arrays.put("base_model.model." + m.name() + ".lora_A.weight", ad.a(m.name()));
        arrays.put("base_model.model." + m.name() + ".lora_B.weight", ad.b(m.name()));
      }
      arrays.put("base_model.model.model.inner.layers.2.self_attn.q_proj.lora_A.weight",
          ad.a(MODULES.get(1).name()));
      SafeTensorsWriter.write(tmp.resolve("adapter_model.safetensors"), arrays,
          SafeTensorsWriter.Dtype.F32);
      assertTrue(assertThrows(IOException.class, () -> PeftAdapterIO.read(tmp, NESTED)).getMessage()
          .contains("two name layouts"));
    }
  }

  /** Rewrites adapter_model.safetensors from {@code ad} without our order metadata, minus {@code drop}'s keys. */
  static void rewriteWeights(Path dir, LoraAdapters ad, Map<String, String> drop) throws IOException {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (LoraAdapters.Module m : ad.modules()) {
      arrays.put("base_model.model." + m.name() + ".lora_A.weight", ad.a(m.name()));
      arrays.put("base_model.model." + m.name() + ".lora_B.weight", ad.b(m.name()));
    }
    if (drop != null) {
      arrays.keySet().removeAll(drop.keySet());
    }
    SafeTensorsWriter.write(dir.resolve("adapter_model.safetensors"), arrays,
        SafeTensorsWriter.Dtype.F32);
  }

  static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    Path f = dir.resolve("adapter_config.json");
    ObjectNode cfg = (ObjectNode) JSON.readTree(f.toFile());
    edit.accept(cfg);
    JSON.writeValue(f.toFile(), cfg);
  }
}
