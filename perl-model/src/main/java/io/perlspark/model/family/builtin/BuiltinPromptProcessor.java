package io.perlspark.model.family.builtin;

import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The built-in model's input processing: the prompt text tokenised as it is (each {@code <image>}
 * is the tokenizer's image id; no chat template), each image decoded and resized to the model's
 * {@code channels x imageSize x imageSize} CHW floats ({@link ImagePixels}); no image grids.
 */
public final class BuiltinPromptProcessor implements PromptProcessor {
  private final TextTokenizer tokenizer;
  private final ModelSpec spec;

  public BuiltinPromptProcessor(TextTokenizer tokenizer, ModelSpec spec) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.spec = Objects.requireNonNull(spec, "spec");
  }

  @Override
  public PolicyInput process(String prompt, List<byte[]> encodedImages) {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(encodedImages, "encodedImages");
    List<float[]> pixels = new ArrayList<>(encodedImages.size());
    for (byte[] image : encodedImages) {
      pixels.add(ImagePixels.decode(image, spec.imageSize(), spec.channels()));
    }
    return PolicyInput.of(tokenizer, prompt, pixels);
  }
}
