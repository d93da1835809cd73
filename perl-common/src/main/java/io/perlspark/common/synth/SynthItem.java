package io.perlspark.common.synth;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * One generated item: the sample (images rendered), what each image shows, and a reference
 * response for supervised warm-starting.
 *
 * @param sample the prompt, images and ground truth
 * @param shapes what each image shows, in image order ({@code shapes.get(i)} is image i+1)
 * @param referenceResponse e.g. {@code <think> img1 red circle img2 blue square </think> \boxed{2}}
 */
public record SynthItem(Sample sample, List<ShapeSpec> shapes, String referenceResponse) implements Serializable {

  public SynthItem {
    Objects.requireNonNull(sample, "sample");
    shapes = List.copyOf(Objects.requireNonNull(shapes, "shapes"));
    Objects.requireNonNull(referenceResponse, "referenceResponse");
    if (shapes.size() != sample.imageCount()) {
      throw new IllegalArgumentException("sample " + sample.id() + " has " + sample.imageCount()
          + " images but " + shapes.size() + " shape specs");
    }
  }

  /** The task family. */
  public Family family() {
    return Family.parse(sample.family());
  }

  /**
   * The 1-based image slot the answer names (which_image: the index; which_option: the slot the
   * letter is bound to), or 0 when the answer names no single image (count, order, attribute_at,
   * single). For per-position accuracy on the balanced eval split.
   */
  public int answerPosition() {
    AnswerKind kind = sample.answerKind();
    if (kind == AnswerKind.IMAGE_INDEX) {
      return Integer.parseInt(sample.answer().trim());
    }
    if (kind == AnswerKind.OPTION_LETTER && !sample.optionImageSlots().isEmpty()) {
      int option = Character.toUpperCase(sample.answer().trim().charAt(0)) - 'A';
      return sample.optionImageSlots().get(option) + 1;
    }
    return 0;
  }
}
