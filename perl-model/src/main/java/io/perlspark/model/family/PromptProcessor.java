package io.perlspark.model.family;

import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.model.policy.PolicyInput;
import java.util.ArrayList;
import java.util.List;

/**
 * A family's input processing (DJL's {@code Translator.processInput} for our prompts): turns a
 * canonical sample's prompt text, with one {@value #IMAGE_PLACEHOLDER} per image, and the images'
 * encoded bytes into the {@link PolicyInput} its model takes: tokens (chat template and image
 * tokens included where the family has them) and pixels (resized, normalised, patch grids).
 *
 * <p>One processor belongs to one tokenizer (the one its recipe was given) and may be used from
 * several threads at once.
 */
public interface PromptProcessor {

  /** The placeholder that marks each image's place in a canonical prompt. */
  String IMAGE_PLACEHOLDER = "<image>";

  /**
   * @param prompt the prompt text with one {@value #IMAGE_PLACEHOLDER} per image
   * @param encodedImages the images in placeholder order, as PNG or JPEG bytes
   * @throws IllegalArgumentException when the placeholders and images do not match or an image
   *     cannot be decoded
   */
  PolicyInput process(String prompt, List<byte[]> encodedImages);

  /**
   * A sample whose images carry their bytes (as {@code perl prepare} writes them).
   *
   * @throws IllegalArgumentException naming the sample and image when an image has no bytes
   */
  default PolicyInput process(Sample sample) {
    List<byte[]> bytes = new ArrayList<>(sample.imageCount());
    for (int i = 0; i < sample.images().size(); i++) {
      ImageRef ref = sample.images().get(i);
      if (!ref.hasBytes()) {
        throw new IllegalArgumentException(
            "sample " + sample.id() + ": image " + i + " has no bytes (uri " + ref.uri()
                + "); load the image bytes before building model inputs");
      }
      bytes.add(ref.bytes());
    }
    return process(sample.prompt(), bytes);
  }

  /** The number of {@value #IMAGE_PLACEHOLDER} placeholders in a prompt. */
  static int countPlaceholders(String prompt) {
    int n = 0;
    for (int at = prompt.indexOf(IMAGE_PLACEHOLDER); at >= 0;
        at = prompt.indexOf(IMAGE_PLACEHOLDER, at + IMAGE_PLACEHOLDER.length())) {
      n++;
    }
    return n;
  }
}
