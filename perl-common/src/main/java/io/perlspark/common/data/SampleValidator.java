package io.perlspark.common.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Structural checks of one {@link Sample}, every problem reported (not only the first), so a
 * rejects table tells the dataset author everything to fix at once.
 *
 * <p>Image bytes are checked separately by {@link #validateImages} (decoding is the expensive
 * part); duplicate ids across rows are the Spark job's concern.
 */
public final class SampleValidator {
  private SampleValidator() {}

  /** Validates with the sample's id as row id and its data source as the source name. */
  public static List<Rejection> validate(Sample s, ValidationLimits limits) {
    return validate(s, limits, s.dataSource(), s.id());
  }

  /**
   * Validates a sample read from {@code sourceFile} at {@code rowId} (e.g. a line number when the
   * id itself may be missing). Empty list = accepted.
   */
  public static List<Rejection> validate(Sample s, ValidationLimits limits, String sourceFile, String rowId) {
    List<Rejection> out = new ArrayList<>();
    String row = rowId == null || rowId.isBlank() ? "<no id>" : rowId;
    String src = sourceFile == null ? "" : sourceFile;

    if (s.id().isBlank()) {
      out.add(new Rejection(row, src, RejectReason.MISSING_FIELD, "id is blank"));
    }
    if (s.prompt().isBlank()) {
      out.add(new Rejection(row, src, RejectReason.EMPTY_PROMPT, "prompt is blank"));
    } else if (s.prompt().length() > limits.maxPromptChars()) {
      out.add(new Rejection(row, src, RejectReason.PROMPT_TOO_LONG,
          "prompt has " + s.prompt().length() + " characters; limit " + limits.maxPromptChars()
              + " (--max-prompt-chars)"));
    }
    if (s.answer().isBlank()) {
      out.add(new Rejection(row, src, RejectReason.EMPTY_ANSWER, "answer is blank"));
    }

    int n = s.imageCount();
    if (n < limits.minImages()) {
      out.add(new Rejection(row, src, RejectReason.NO_IMAGES,
          "sample has " + n + " images; at least " + limits.minImages() + " required"));
    } else if (n > limits.maxImages()) {
      out.add(new Rejection(row, src, RejectReason.TOO_MANY_IMAGES,
          "sample has " + n + " images; limit " + limits.maxImages()));
    }
    int placeholders = Sample.countPlaceholders(s.prompt());
    if (placeholders != n) {
      out.add(new Rejection(row, src, RejectReason.PLACEHOLDER_MISMATCH,
          "prompt has " + placeholders + " " + Sample.IMAGE_PLACEHOLDER + " placeholders but " + n + " images"));
    }

    boolean slotsOk = checkOptionSlots(s, row, src, out);
    if (!s.answer().isBlank()) {
      // With broken option slots the letter range is meaningless; BAD_OPTION_SLOTS already says why.
      List<Integer> slots = slotsOk ? s.optionImageSlots() : List.of();
      try {
        Answers.check(s.answer(), s.answerKind(), n, slots);
      } catch (IllegalArgumentException e) {
        out.add(new Rejection(row, src, RejectReason.ANSWER_NOT_PARSEABLE,
            s.answerKind().wireName() + " answer '" + s.answer() + "': " + e.getMessage()));
      }
    }
    return out;
  }

  /**
   * Checks the bytes of every image that has them (URI-only images are resolved and checked by
   * the job that reads them). Each problem's detail names the 1-based image number.
   */
  public static List<Rejection> validateImages(Sample s, ValidationLimits limits, String sourceFile, String rowId) {
    List<Rejection> out = new ArrayList<>();
    List<ImageRef> images = s.images();
    for (int i = 0; i < images.size(); i++) {
      ImageRef img = images.get(i);
      if (!img.hasBytes()) {
        continue;
      }
      Optional<ImageChecks.Problem> p = ImageChecks.check(img.bytes(), limits);
      if (p.isPresent()) {
        out.add(new Rejection(rowId, sourceFile, p.get().reason(), "image " + (i + 1) + ": " + p.get().detail()));
      }
    }
    return out;
  }

  private static boolean checkOptionSlots(Sample s, String row, String src, List<Rejection> out) {
    List<Integer> slots = s.optionImageSlots();
    if (slots.isEmpty()) {
      return true;
    }
    if (s.answerKind() != AnswerKind.OPTION_LETTER) {
      out.add(new Rejection(row, src, RejectReason.BAD_OPTION_SLOTS,
          "optionImageSlots " + slots + " given but the answer kind is " + s.answerKind().wireName()
              + " (only option_letter answers bind options to images)"));
      return false;
    }
    if (slots.size() > 26) {
      out.add(new Rejection(row, src, RejectReason.BAD_OPTION_SLOTS,
          "optionImageSlots has " + slots.size() + " entries; options are letters A-Z (at most 26)"));
      return false;
    }
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < slots.size(); i++) {
      Integer slot = slots.get(i);
      char option = (char) ('A' + i);
      if (slot < 0 || slot >= s.imageCount()) {
        out.add(new Rejection(row, src, RejectReason.BAD_OPTION_SLOTS, "option " + option + " is bound to slot "
            + slot + ", outside the image slots 0.." + (s.imageCount() - 1) + " (0-based)"));
        return false;
      }
      if (!seen.add(slot)) {
        out.add(new Rejection(row, src, RejectReason.BAD_OPTION_SLOTS,
            "option " + option + " repeats slot " + slot + " (each option must name a different image)"));
        return false;
      }
    }
    return true;
  }
}
