package io.perlspark.model.family.qwen25vl;

import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyInput;
import java.util.List;
import java.util.Objects;

/**
 * Qwen2.5-VL's {@link PromptProcessor}: the canonical prompt rendered through the checkpoint's chat
 * template as one user turn with the generation prompt (template default system prompt), image
 * pads expanded per image, pixels and grids exactly as Hugging Face's processor ({@link
 * Qwen25VlProcessor}). Shares the processor (and its native tokenizer) of the model's {@link
 * Qwen25VlTokenizer}; it closes nothing.
 */
public final class Qwen25VlPromptProcessor implements PromptProcessor {
  private final Qwen25VlProcessor processor;

  public Qwen25VlPromptProcessor(Qwen25VlProcessor processor) {
    this.processor = Objects.requireNonNull(processor, "processor");
  }

  @Override
  public PolicyInput process(String prompt, List<byte[]> encodedImages) {
    Qwen25VlProcessor.Inputs in = processor.process(prompt, null, encodedImages);
    return new PolicyInput(in.inputIds(), in.pixelValues().toArray(new float[0][]),
        in.grids().toArray(new int[0][]));
  }

  /** The rendered chat prompt of a canonical prompt (for logs and tests). */
  public String render(String prompt, List<byte[]> encodedImages) {
    return processor.process(prompt, null, encodedImages).text();
  }
}
