package io.perlspark.common.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code model.lora}: train low-rank adapters instead of the whole model (PEFT conventions: {@code
 * y = x W^T + scale (x A^T) B^T}, A Kaiming-uniform, B zero, scale {@code alpha / rank} or {@code
 * alpha / sqrt(rank)} with rsLoRA). Only the adapters train, are broadcast and are checkpointed;
 * the base stays in {@code model.path}.
 *
 * @param enabled train adapters (true) or every parameter (false, the default)
 * @param rank adapter rank r, at least 1
 * @param alpha {@code lora_alpha}, positive
 * @param targets comma-separated module names (a module is adapted when its Hub name equals one or
 *     ends with {@code "." + name}), PEFT's list form of {@code target_modules}
 * @param rslora scale by {@code alpha / sqrt(rank)} instead of {@code alpha / rank}
 * @param vision also adapt the vision tower's matching modules (default false, as EasyR1)
 */
public record LoraSettings(
    boolean enabled, int rank, double alpha, String targets, boolean rslora, boolean vision)
    implements Serializable {

  public static final String DEFAULT_TARGETS =
      "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

  public static LoraSettings defaults() {
    return new LoraSettings(false, 8, 16.0, DEFAULT_TARGETS, false, false);
  }

  /** {@link #targets} split at commas, trimmed, empties dropped. */
  public List<String> targetList() {
    List<String> out = new ArrayList<>();
    if (targets != null) {
      for (String t : targets.split(",")) {
        if (!t.isBlank()) {
          out.add(t.trim());
        }
      }
    }
    return out;
  }

  void check(Checks c, String path) {
    // checked even when disabled: a typo should not wait until someone turns LoRA on
    c.atLeast(Checks.join(path, "rank"), rank, 1);
    c.positive(Checks.join(path, "alpha"), alpha);
    String key = Checks.join(path, "targets");
    List<String> list = targetList();
    if (list.isEmpty()) {
      c.add(key, "is empty; list the modules to adapt, e.g. " + DEFAULT_TARGETS);
    }
    for (String t : list) {
      if (!NAME.matcher(t).matches()) {
        c.notAllowed(key, t, "each entry must be a module name (letters, digits, _ and dots)");
      }
    }
  }
}
