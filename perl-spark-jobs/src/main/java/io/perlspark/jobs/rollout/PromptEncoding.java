package io.perlspark.jobs.rollout;

import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyInput;
import java.util.ArrayList;
import java.util.List;

/**
 * How a sample becomes model input: the model family's prompt processor takes its prompt text and
 * its images' bytes (which training data must carry).
 */
public final class PromptEncoding {
  private PromptEncoding() {}

  public static PolicyInput encode(Sample s, PromptProcessor processor) {
    List<byte[]> images = new ArrayList<>(s.imageCount());
    for (ImageRef img : s.images()) {
      if (!img.hasBytes()) {
        throw new IllegalArgumentException("sample " + s.id() + ": image " + img.uri()
            + " has no bytes; run `perl prepare` to embed images before training");
      }
      images.add(img.bytes());
    }
    return processor.process(s.prompt(), images);
  }
}
