package io.perlspark.model.lora;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What LoRA adapts and how strongly: rank {@code r}, {@code alpha}, which linear modules, rsLoRA.
 *
 * <p>Targeting follows PEFT ({@code peft.tuners.tuners_utils.check_target_module_exists}, checked
 * in huggingface/peft at 5d602fd): with a list, a module is targeted when its name equals an entry
 * or ends with {@code "." + entry}; with a single string, the string is a regex that must match
 * the whole name ({@code re.fullmatch}). Names are Hub module names without {@code .weight}, e.g.
 * {@code model.layers.3.self_attn.q_proj}. Java and Python regexes agree on ordinary patterns
 * (alternation, classes, lookahead), not on every feature: keep patterns plain.
 *
 * <p>{@code excludeVision} (default true) leaves the vision tower alone: a module under {@code
 * visual.} (or {@code .visual.}, as newer transformers name it) is never targeted. This matters on
 * export: Qwen2.5-VL's vision blocks also have {@code mlp.gate_proj/up_proj/down_proj}, so a plain
 * suffix list would make PEFT adapt them too; {@link #peftTargetModules()} therefore writes the
 * list as an equivalent regex with the exclusion built in.
 *
 * <p>Dropout is not a field: it is always 0. GRPO compares the policy's log-probabilities with
 * those it sampled under (the ratio) and with the reference; dropout noise in the adapters would
 * make the policy at step 0 differ from itself and bias the ratio. Exported as {@code
 * lora_dropout: 0.0}.
 *
 * @param r rank, at least 1
 * @param alpha {@code lora_alpha}: finite and positive
 * @param targetModules PEFT-style names (list form), or null when {@code targetRegex} is used
 * @param targetRegex a regex over whole module names, or null when the list form is used
 * @param excludeVision never target modules of the vision tower
 * @param useRslora scale by {@code alpha / sqrt(r)} instead of {@code alpha / r}
 */
public record LoraConfig(int r, double alpha, List<String> targetModules, String targetRegex,
    boolean excludeVision, boolean useRslora) {

  /** The seven projections of every Qwen2 decoder layer (attention and MLP). */
  public static final List<String> DEFAULT_TARGETS =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  /** Always 0 (see the class comment). */
  public static final double DROPOUT = 0.0;

  /** A target name in list form: dot-separated identifiers. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

  /** Python and Java agree on this lookahead; it rejects names starting with or containing visual. */
  private static final String NOT_VISION = "(?!(?:.*\\.)?visual\\.)";

  public LoraConfig {
    if (r < 1) {
      throw new IllegalArgumentException("LoRA rank r must be at least 1, got " + r);
    }
    if (!Double.isFinite(alpha) || alpha <= 0) {
      // alpha 0 would make every adapter a no-op that still trains: surely a mistake
      throw new IllegalArgumentException("LoRA alpha must be finite and positive, got " + alpha);
    }
    if ((targetModules == null) == (targetRegex == null)) {
      throw new IllegalArgumentException(
          "give exactly one of targetModules (a list of names) and targetRegex (a regex)");
    }
    if (targetModules != null) {
      if (targetModules.isEmpty()) {
        throw new IllegalArgumentException("targetModules is empty: LoRA would adapt nothing");
      }
      targetModules = List.copyOf(targetModules);
      for (String t : targetModules) {
        if (!NAME.matcher(t).matches()) {
          throw new IllegalArgumentException("target module '" + t + "' is not a module name "
              + "(dot-separated letters, digits, underscores); use targetRegex for a pattern");
        }
      }
    } else {
      if (targetRegex.isEmpty()) {
        throw new IllegalArgumentException("targetRegex is empty");
      }
      try {
        Pattern.compile(targetRegex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("targetRegex is not a valid regex: " + e.getMessage(), e);
      }
    }
  }

  /** Rank {@code r}, {@code alpha}, the default targets, vision excluded, plain scaling. */
  public static LoraConfig of(int r, double alpha) {
    return new LoraConfig(r, alpha, DEFAULT_TARGETS, null, true, false);
  }

  public LoraConfig withTargets(List<String> modules) {
    return new LoraConfig(r, alpha, modules, null, excludeVision, useRslora);
  }

  public LoraConfig withTargetRegex(String regex) {
    return new LoraConfig(r, alpha, null, regex, excludeVision, useRslora);
  }

  public LoraConfig withRslora(boolean rslora) {
    return new LoraConfig(r, alpha, targetModules, targetRegex, excludeVision, rslora);
  }

  public LoraConfig withExcludeVision(boolean exclude) {
    return new LoraConfig(r, alpha, targetModules, targetRegex, exclude, useRslora);
  }

  /** PEFT's scaling: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA (layer.py update_layer). */
  public double scale() {
    return useRslora ? alpha / Math.sqrt(r) : alpha / r;
  }

  /** True when the vision tower holds the module ({@code visual.} or {@code .visual.}). */
  public static boolean isVision(String moduleName) {
    return moduleName.startsWith("visual.") || moduleName.contains(".visual.");
  }

  /** Whether LoRA adapts the module (a Hub name without {@code .weight}). */
  public boolean targets(String moduleName) {
    Objects.requireNonNull(moduleName, "moduleName");
    if (excludeVision && isVision(moduleName)) {
      return false;
    }
    if (targetRegex != null) {
      return Pattern.matches(targetRegex, moduleName);
    }
    for (String t : targetModules) {
      if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code target_modules} as written to {@code adapter_config.json}: a {@code List<String>} or a
   * {@code String} regex, chosen so that PEFT targets exactly the modules {@link #targets} does
   * (a list is written as such only when the vision exclusion plays no part).
   */
  public Object peftTargetModules() {
    if (targetRegex != null) {
      return excludeVision ? NOT_VISION + "(?:" + targetRegex + ")" : targetRegex;
    }
    if (!excludeVision) {
      return targetModules;
    }
    StringBuilder alt = new StringBuilder();
    for (String t : targetModules) {
      alt.append(alt.length() == 0 ? "" : "|").append(t.replace(".", "\\."));
    }
    // equals t, or ends with "." + t, and not in the vision tower
    return NOT_VISION + "(?:.*\\.)?(?:" + alt + ")";
  }

  /** A config as read from {@code target_modules} (list or regex); the file's rule is kept as is. */
  static LoraConfig fromPeft(int r, double alpha, Object targetModules, boolean useRslora) {
    if (targetModules instanceof String s) {
      return new LoraConfig(r, alpha, null, s, false, useRslora);
    }
    @SuppressWarnings("unchecked")
    List<String> list = (List<String>) targetModules;
    return new LoraConfig(r, alpha, list, null, false, useRslora);
  }
}
