package io.perlspark.common.eval;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Answers;
import java.util.Collection;
import java.util.Optional;

/**
 * Permutation consistency: whether a policy's answers to the permuted copies of one sample refer
 * to the same content. An answer that names images (an image index, an ordering, an option letter
 * bound to an image) is mapped back through the copy's order to ORIGINAL slots before comparing;
 * any other answer is order-invariant and compared by its canonical form.
 *
 * <p>Mapping back is the inverse of {@code permute.AnswerRemapper}: the remapper moves an original
 * slot {@code s} to the new slot {@code j} with {@code order[j] == s}, so the new slot {@code j}
 * maps back to {@code order[j]}.
 */
public final class Consistency {
  private Consistency() {}

  /**
   * Whether the record's answer names image slots, so that consistency compares original slots:
   * image indices, orderings, and option letters bound to images (recognised by a gold answer that
   * names a slot, {@code answerPosition > 0}).
   */
  public static boolean namesImages(EvalRecord r) {
    return r.answerKind() == AnswerKind.IMAGE_INDEX || r.answerKind() == AnswerKind.ORDERING
        || (r.answerKind() == AnswerKind.OPTION_LETTER && r.answerPosition() > 0);
  }

  /**
   * The ORIGINAL 0-based slots the prediction names, in the prediction's order: one slot for an
   * image index or a bound option letter, one per element for an ordering. Empty when the record's
   * answer does not name images ({@link #namesImages}) or the prediction names no valid slot
   * (missing, unparseable, out of range).
   */
  public static Optional<int[]> originalSlots(EvalRecord r) {
    if (!namesImages(r)) {
      return Optional.empty();
    }
    if (r.answerKind() != AnswerKind.ORDERING) {
      int p = r.predictedPosition();
      return p > 0 ? Optional.of(new int[] {r.originalSlotAt(p - 1)}) : Optional.empty();
    }
    if (r.predictedCanonical() == null) {
      return Optional.empty();
    }
    int[] seq;
    try {
      seq = Answers.parseIndexSequence(r.predictedCanonical());
    } catch (IllegalArgumentException unparseable) {
      return Optional.empty();
    }
    int[] out = new int[seq.length];
    for (int i = 0; i < seq.length; i++) {
      if (seq[i] > r.imageCount()) {
        return Optional.empty();
      }
      out[i] = r.originalSlotAt(seq[i] - 1);
    }
    return Optional.of(out);
  }

  /**
   * What the prediction refers to, comparable across permutations of one sample: the original
   * slots for answers that name images, the canonical answer otherwise. Empty when there is no
   * usable prediction; such a copy makes its sample inconsistent.
   */
  public static Optional<String> contentKey(EvalRecord r) {
    if (namesImages(r)) {
      return originalSlots(r).map(Consistency::slotsKey);
    }
    String c = r.predictedCanonical();
    return c == null || c.isEmpty() ? Optional.empty() : Optional.of("answer:" + c);
  }

  /**
   * Whether the records (the permuted copies of ONE sample) all have a usable prediction with the
   * same {@link #contentKey}. A single record is trivially consistent when it has a prediction.
   */
  public static boolean consistent(Collection<EvalRecord> copies) {
    String first = null;
    for (EvalRecord r : copies) {
      Optional<String> key = contentKey(r);
      if (key.isEmpty()) {
        return false;
      }
      if (first == null) {
        first = key.get();
      } else if (!first.equals(key.get())) {
        return false;
      }
    }
    return first != null;
  }

  private static String slotsKey(int[] slots) {
    StringBuilder sb = new StringBuilder("slots:");
    for (int i = 0; i < slots.length; i++) {
      sb.append(i == 0 ? "" : ",").append(slots[i]);
    }
    return sb.toString();
  }
}
