package io.perlspark.common.eval;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Answers;
import java.util.List;

/** Which image slot an answer names, for answers that name a single image. */
public final class AnswerSlots {
  private AnswerSlots() {}

  /**
   * The 1-based slot an answer names: an image index itself, or the slot an option letter is
   * bound to. 0 when the kind names no single image (number, yes/no, text, ordering, option
   * letters not bound to images) or the answer is null, does not parse, or is out of range — a
   * prediction like {@code 5} for a 3-image sample names no image.
   *
   * @param answer the answer in canonical form (or any form {@link Answers} parses), may be null
   * @param optionImageSlots {@code Sample.optionImageSlots()}: option {@code 'A'+i} names 0-based
   *     slot {@code optionImageSlots.get(i)}; empty when options are not images
   */
  public static int slotNamed(AnswerKind kind, String answer, int imageCount, List<Integer> optionImageSlots) {
    if (answer == null || answer.isBlank()) {
      return 0;
    }
    try {
      return switch (kind) {
        case IMAGE_INDEX -> {
          int k = Answers.parseIndex(answer);
          yield k <= imageCount ? k : 0;
        }
        case OPTION_LETTER -> {
          if (optionImageSlots == null || optionImageSlots.isEmpty()) {
            yield 0;
          }
          int option = Answers.parseOptionLetter(answer) - 'A';
          if (option >= optionImageSlots.size()) {
            yield 0;
          }
          int slot = optionImageSlots.get(option);
          yield slot >= 0 && slot < imageCount ? slot + 1 : 0;
        }
        case NUMBER, YES_NO, TEXT, ORDERING -> 0;
      };
    } catch (IllegalArgumentException unparseable) {
      return 0; // a prediction that is not an answer of this kind names no image
    }
  }
}
