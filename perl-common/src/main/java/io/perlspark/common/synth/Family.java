package io.perlspark.common.synth;

import io.perlspark.common.data.AnswerKind;
import java.util.Locale;

/** The task families of the synthetic benchmark. {@link #wireName()} is what {@code Sample.family()} holds. */
public enum Family {
  /** "which image shows a red circle ?" → the 1-based index of the one matching image. */
  WHICH_IMAGE(AnswerKind.IMAGE_INDEX, true, true),
  /** "a: &lt;image&gt; b: &lt;image&gt; … which option shows a red circle ?" → the option letter bound to it. */
  WHICH_OPTION(AnswerKind.OPTION_LETTER, true, true),
  /** "how many images show a square ?" → 0..n. */
  COUNT(AnswerKind.NUMBER, false, true),
  /** "order the images by the size of their shape , smallest first" → e.g. {@code 2,3,1}. */
  ORDER(AnswerKind.ORDERING, true, true),
  /** "what colour is the shape in image 2 ?" → refers to a position, so it cannot be remapped. */
  ATTRIBUTE_AT(AnswerKind.TEXT, true, true),
  /** One image: "what shape is this ?" (text) or "is the shape red ?" (yes / no). */
  SINGLE(null, false, false);

  private final AnswerKind answerKind;
  private final boolean orderSensitive;
  private final boolean multiImage;

  Family(AnswerKind answerKind, boolean orderSensitive, boolean multiImage) {
    this.answerKind = answerKind;
    this.orderSensitive = orderSensitive;
    this.multiImage = multiImage;
  }

  /** The answer kind, or null for {@link #SINGLE}, whose kind depends on the question asked. */
  public AnswerKind answerKind() {
    return answerKind;
  }

  public boolean orderSensitive() {
    return orderSensitive;
  }

  public boolean multiImage() {
    return multiImage;
  }

  /** The stage tag samples of this family carry: {@code multi} or {@code single}. */
  public String stageTag() {
    return multiImage ? "multi" : "single";
  }

  /** The answer is an image slot, so a position bias can be put on it (train and SFT splits). */
  public boolean answerIsImage() {
    return this == WHICH_IMAGE || this == WHICH_OPTION;
  }

  /** Lower snake case, e.g. {@code which_image}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name ({@code which_image}, {@code which-image}, {@code WHICH_IMAGE}). */
  public static Family parse(String s) {
    return Wire.parse(Family.class, values(), s, "synth task family");
  }
}
