package io.perlspark.model.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
  /** Every module name of a Qwen2.5-VL checkpoint shape, two decoder layers and one vision block. */
  static List<String> qwenModules(String lm, String vis) {
    List<String> names = new ArrayList<>();
    names.add(lm + "embed_tokens");
    for (int l : new int[] {0, 3}) {
      String p = lm + "layers." + l + ".";
      for (String s : List.of("input_layernorm", "post_attention_layernorm", "self_attn.q_proj",
          "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
          "mlp.up_proj", "mlp.down_proj")) {
        names.add(p + s);
      }
    }
    names.add(lm + "norm");
    names.add("lm_head");
    names.add(vis + "patch_embed.proj");
    String b = vis + "blocks.0.";
    for (String s : List.of("norm1", "norm2", "attn.qkv", "attn.proj", "mlp.gate_proj",
        "mlp.up_proj", "mlp.down_proj")) {
      names.add(b + s);
    }
    names.add(vis + "merger.ln_q");
    names.add(vis + "merger.mlp.0");
    names.add(vis + "merger.mlp.2");
    return names;
  }

  static Set<String> targeted(LoraConfig c, List<String> names) {
    Set<String> out = new TreeSet<>();
    for (String n : names) {
      if (c.targets(n)) {
        out.add(n);
      }
    }
    return out;
  }

  /** PEFT's reading of the exported target_modules: re.fullmatch for a string, else list rules. */
  static boolean peftTargets(Object targetModules, String name) {
    if (targetModules instanceof String s) {
      return Pattern.matches(s, name);
    }
    for (Object t : (List<?>) targetModules) {
      if (name.equals(t) || name.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void defaultTargetsAreExactlyTheSevenDecoderProjections() {
    LoraConfig c = LoraConfig.of(8, 16);
    // both checkpoint namings: the Hub's (model.layers, visual) and newer transformers'
    for (String[] naming : new String[][] {{"model.", "visual."},
        {"model.language_model.", "model.visual."}}) {
      List<String> names = qwenModules(naming[0], naming[1]);
      Set<String> expected = new TreeSet<>();
      for (int l : new int[] {0, 3}) {
        for (String s : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
          expected.add(naming[0] + "layers." + l + "." + s);
        }
      }
      assertEquals(expected, targeted(c, names));
      assertEquals(14, expected.size());
    }
  }

  @Test
  void visionIsTargetedOnlyWhenAskedFor() {
    LoraConfig c = LoraConfig.of(8, 16).withExcludeVision(false);
    assertTrue(c.targets("visual.blocks.0.mlp.gate_proj"), "vision MLPs share the suffix");
    assertFalse(c.targets("visual.blocks.0.attn.qkv"));
    assertFalse(LoraConfig.of(8, 16).targets("visual.blocks.0.mlp.gate_proj"));
    assertTrue(LoraConfig.isVision("model.visual.blocks.0.mlp.up_proj"));
    assertFalse(LoraConfig.isVision("model.layers.0.mlp.up_proj"));
    assertFalse(LoraConfig.isVision("model.nonvisual.x"));
  }

  @Test
  void suffixMatchesWholeNameComponentsOnly() {
    LoraConfig c = LoraConfig.of(4, 8).withTargets(List.of("proj", "self_attn.q_proj"));
    assertTrue(c.targets("model.layers.3.self_attn.q_proj"));
    assertTrue(c.targets("proj"), "equal to the target");
    assertFalse(c.targets("model.layers.3.self_attn.k_proj"), "'proj' is not a component of k_proj");
    assertFalse(c.targets("model.layers.3.cross_attn.q_proj"));
    assertFalse(c.targets("model.layers.3.self_attn.xq_proj"));
  }

  @Test
  void regexMustMatchTheWholeName() {
    LoraConfig c = LoraConfig.of(4, 8).withTargetRegex("model\\.layers\\.[0-9]+\\.self_attn\\.(q|v)_proj");
    assertTrue(c.targets("model.layers.12.self_attn.v_proj"));
    assertFalse(c.targets("model.layers.12.self_attn.k_proj"));
    assertFalse(c.targets("x.model.layers.12.self_attn.q_proj"), "fullmatch, not search");
    LoraConfig any = LoraConfig.of(4, 8).withTargetRegex(".*_proj");
    assertFalse(any.targets("visual.blocks.0.mlp.up_proj"), "vision excluded by default");
    assertTrue(any.withExcludeVision(false).targets("visual.blocks.0.mlp.up_proj"));
  }

  @Test
  void exportedTargetModulesTargetWhatWeTarget() {
    List<String> names = new ArrayList<>(qwenModules("model.", "visual."));
    names.addAll(qwenModules("model.language_model.", "model.visual."));
    names.add("q_proj");
    names.add("visual.q_proj");
    for (LoraConfig c : List.of(LoraConfig.of(8, 16), LoraConfig.of(8, 16).withExcludeVision(false),
        LoraConfig.of(2, 4).withTargets(List.of("self_attn.o_proj", "up_proj")),
        LoraConfig.of(2, 4).withTargetRegex(".*\\.(q|k)_proj"),
        LoraConfig.of(2, 4).withTargetRegex(".*\\.(q|k)_proj").withExcludeVision(false))) {
      Object exported = c.peftTargetModules();
      for (String n : names) {
        assertEquals(c.targets(n), peftTargets(exported, n), c + " on " + n + " via " + exported);
      }
    }
    assertInstanceOf(String.class, LoraConfig.of(8, 16).peftTargetModules(),
        "a suffix list would also adapt the vision MLPs in PEFT");
    assertEquals(LoraConfig.DEFAULT_TARGETS,
        LoraConfig.of(8, 16).withExcludeVision(false).peftTargetModules());
  }

  @Test
  void scaleIsAlphaOverROrOverSqrtR() {
    assertEquals(2.0, LoraConfig.of(8, 16).scale());
    assertEquals(16 / Math.sqrt(8), LoraConfig.of(8, 16).withRslora(true).scale());
    assertEquals(0.0, LoraConfig.DROPOUT);
  }

  @Test
  void invalidConfigsAreRefusedWithTheReason() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(0, 16))
        .getMessage().contains("rank r must be at least 1"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(8, Double.NaN))
        .getMessage().contains("alpha"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.of(8, 0))
        .getMessage().contains("alpha"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new LoraConfig(8, 16, List.of("q_proj"), "x", true, false))
        .getMessage().contains("exactly one"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new LoraConfig(8, 16, null, null, true, false)).getMessage().contains("exactly one"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LoraConfig.of(8, 16).withTargets(List.of())).getMessage().contains("empty"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LoraConfig.of(8, 16).withTargets(List.of(".*_proj"))).getMessage()
        .contains("use targetRegex"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> LoraConfig.of(8, 16).withTargetRegex("(q_proj")).getMessage()
        .contains("not a valid regex"));
  }
}
