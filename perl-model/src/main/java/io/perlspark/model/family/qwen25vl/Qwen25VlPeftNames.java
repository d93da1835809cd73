package io.perlspark.model.family.qwen25vl;

import io.perlspark.model.lora.PeftModuleNames;

/**
 * Qwen2.5-VL's module names as PEFT sees them. Since transformers 4.52, {@code
 * Qwen2_5_VLForConditionalGeneration} nests the decoder as {@code model.language_model} and the
 * vision tower as {@code model.visual}, while checkpoints (and our module names) keep the older
 * {@code model.layers...} / {@code visual...} keys. PEFT 0.21 with transformers 5.18 saves adapters
 * under the nested names and, loading older-named ones, warns "Found missing adapter keys" and
 * leaves those adapters at B = 0 (measured with {@code bench/hf-load-check.sh}); transformers 5 no
 * longer has the {@code _checkpoint_conversion_mapping} that PEFT used to rename them. vLLM maps
 * both layouts ({@code hf_to_vllm_mapper} of its Qwen2.5-VL model). We therefore write the nested
 * names and read both.
 */
public final class Qwen25VlPeftNames implements PeftModuleNames {
  public static final Qwen25VlPeftNames INSTANCE = new Qwen25VlPeftNames();

  static final String DECODER = "model.";
  static final String VISION = "visual.";
  static final String NESTED_DECODER = "model.language_model.";
  static final String NESTED_VISION = "model.visual.";

  private Qwen25VlPeftNames() {}

  @Override
  public String toPeft(String module) {
    if (module.startsWith(VISION)) {
      return NESTED_VISION + module.substring(VISION.length());
    }
    if (module.startsWith(DECODER)) {
      return NESTED_DECODER + module.substring(DECODER.length());
    }
    return module; // lm_head sits at the top in both layouts
  }

  @Override
  public String fromPeft(String peftModule) {
    if (peftModule.startsWith(NESTED_DECODER)) {
      return DECODER + peftModule.substring(NESTED_DECODER.length());
    }
    if (peftModule.startsWith(NESTED_VISION)) {
      return VISION + peftModule.substring(NESTED_VISION.length());
    }
    return peftModule; // the older layout is ours
  }
}
