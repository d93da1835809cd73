package io.perlspark.jobs.rollout;

import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.model.policy.ImagePixels;
import io.perlspark.model.policy.ModelSpec;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/** How a sample becomes model input: its prompt text tokenised, its images decoded to pixels. */
public final class PromptEncoding {
  private PromptEncoding() {}

  public static PolicyInput encode(Sample s, TextTokenizer tokenizer, ModelSpec spec) {
    List<float[]> pixels = new ArrayList<>(s.imageCount());
    for (ImageRef img : s.images()) {
      if (!img.hasBytes()) {
        throw new IllegalArgumentException("sample " + s.id() + ": image " + img.uri()
            + " has no bytes; run `perl prepare` to embed images before training");
      }
      pixels.add(ImagePixels.decode(img.bytes(), spec.imageSize(), spec.channels()));
    }
    return PolicyInput.of(tokenizer, s.prompt(), pixels);
  }
}
