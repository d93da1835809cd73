package io.perlspark.model.lora;

/**
 * How a model's own module names (as {@link LoraAdapters} names them) map to the module names PEFT
 * sees on the transformers model, which are what its adapter keys hold ({@code
 * base_model.model.<module>.lora_A.weight}). PEFT matches keys to the live module tree, not to the
 * checkpoint's key names, so where a transformers version nests a model differently from its
 * checkpoint layout, the adapter keys must follow the nesting or PEFT silently leaves those
 * adapters at their initialisation (B = 0: the base).
 */
public interface PeftModuleNames {
  /** The PEFT module name for one of our module names. */
  String toPeft(String module);

  /**
   * Our module name for a PEFT module name; accepts every layout a PEFT version has written for
   * the family (older and newer nesting), so adapters from either read back.
   */
  String fromPeft(String peftModule);

  /** Our names are PEFT's (the built-in model; a plain causal LM). */
  PeftModuleNames SAME = new PeftModuleNames() {
    @Override
    public String toPeft(String module) {
      return module;
    }

    @Override
    public String fromPeft(String peftModule) {
      return peftModule;
    }
  };
}
