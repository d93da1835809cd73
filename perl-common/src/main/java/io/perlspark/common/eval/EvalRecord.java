package io.perlspark.common.eval;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import io.perlspark.common.permute.AnswerRemapper;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One greedy evaluation of one sample under one image order.
 *
 * @param split the eval split the sample came from (e.g. {@code eval})
 * @param sampleId the ORIGINAL sample's id, the same for all permutations of it
 * @param family task family ({@code Sample.family()}); empty when unknown
 * @param answerKind the sample's answer kind
 * @param imageCount number of images
 * @param permIndex 0 for the original order, 1.. for the other orders evaluated
 * @param order {@code order[j]} = original slot of the image at slot {@code j} (the convention of
 *     {@code io.perlspark.common.permute}); the identity when {@code permIndex} is 0
 * @param answerPosition 1-based slot of the answer image in THIS order (image-index answers and
 *     option letters bound to images), 0 when the answer names no single image
 * @param goldAnswer the ground truth remapped to this order
 * @param predictedCanonical the extracted answer in canonical form
 *     ({@code AnswerNormalizer.canonical}); null when none was extracted or it does not parse
 * @param predictedPosition 1-based slot the prediction names in THIS order (same kinds as
 *     {@code answerPosition}), 0 when it names none (no answer, out of range, other kinds)
 * @param correct whether the prediction matched the gold answer
 * @param formatOk whether the response had the required format
 * @param responseLength response length in tokens
 */
public record EvalRecord(
    String split,
    String sampleId,
    String family,
    AnswerKind answerKind,
    int imageCount,
    int permIndex,
    int[] order,
    int answerPosition,
    String goldAnswer,
    String predictedCanonical,
    int predictedPosition,
    boolean correct,
    boolean formatOk,
    int responseLength)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public EvalRecord {
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(sampleId, "sampleId");
    family = family == null ? "" : family;
    Objects.requireNonNull(answerKind, () -> "answerKind of sample '" + sampleId + "'");
    Objects.requireNonNull(goldAnswer, () -> "goldAnswer of sample '" + sampleId + "'");
    Objects.requireNonNull(order, () -> "order of sample '" + sampleId + "'");
    order = order.clone();
    String where = "eval record (split '" + split + "', sample '" + sampleId + "', permIndex " + permIndex + "): ";
    if (imageCount < 0) {
      throw new IllegalArgumentException(where + "imageCount must be >= 0, got " + imageCount);
    }
    if (permIndex < 0) {
      throw new IllegalArgumentException(where + "permIndex must be >= 0, got " + permIndex);
    }
    checkOrder(order, imageCount, permIndex, where);
    if (answerPosition < 0 || answerPosition > imageCount) {
      throw new IllegalArgumentException(where + "answerPosition must be in 0.." + imageCount + ", got " + answerPosition);
    }
    if (predictedPosition < 0 || predictedPosition > imageCount) {
      throw new IllegalArgumentException(where + "predictedPosition must be in 0.." + imageCount + ", got "
          + predictedPosition);
    }
    if (responseLength < 0) {
      throw new IllegalArgumentException(where + "responseLength must be >= 0, got " + responseLength);
    }
  }

  /**
   * The record of {@code original} evaluated under {@code order}: the gold answer is remapped
   * with {@link AnswerRemapper} and both positions are derived, so the eval job only supplies what
   * the policy did.
   *
   * @param original the sample in its original order (its id becomes {@code sampleId})
   * @param order the order evaluated ({@code order[j]} = original slot now at slot {@code j})
   * @param predictedCanonical the prediction's canonical form, or null
   */
  public static EvalRecord of(String split, Sample original, int permIndex, int[] order,
      String predictedCanonical, boolean correct, boolean formatOk, int responseLength) {
    Objects.requireNonNull(original, "original");
    String gold = AnswerRemapper.remap(original, order);
    int n = original.imageCount();
    return new EvalRecord(split, original.id(), original.family(), original.answerKind(), n, permIndex, order,
        AnswerSlots.slotNamed(original.answerKind(), gold, n, original.optionImageSlots()),
        gold, predictedCanonical,
        AnswerSlots.slotNamed(original.answerKind(), predictedCanonical, n, original.optionImageSlots()),
        correct, formatOk, responseLength);
  }

  /** Whether this is the original order. Not a JSON property: it follows from {@code permIndex}. */
  @JsonIgnore
  public boolean isOriginal() {
    return permIndex == 0;
  }

  /** A copy of the order (the record stays immutable). */
  @Override
  public int[] order() {
    return order.clone();
  }

  /** {@code order[slot]} without copying the array. */
  public int originalSlotAt(int slot) {
    return order[slot];
  }

  private static void checkOrder(int[] order, int n, int permIndex, String where) {
    if (order.length != n) {
      throw new IllegalArgumentException(where + "order has " + order.length + " entries but imageCount is " + n);
    }
    boolean[] seen = new boolean[n];
    for (int j = 0; j < n; j++) {
      int from = order[j];
      if (from < 0 || from >= n || seen[from]) {
        throw new IllegalArgumentException(where + "order " + Arrays.toString(order)
            + " is not a permutation of 0.." + (n - 1));
      }
      seen[from] = true;
      if (permIndex == 0 && from != j) {
        throw new IllegalArgumentException(where + "permIndex 0 is the original order, but order is "
            + Arrays.toString(order));
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EvalRecord r && imageCount == r.imageCount && permIndex == r.permIndex
        && answerPosition == r.answerPosition && predictedPosition == r.predictedPosition && correct == r.correct
        && formatOk == r.formatOk && responseLength == r.responseLength && split.equals(r.split)
        && sampleId.equals(r.sampleId) && family.equals(r.family) && answerKind == r.answerKind
        && Arrays.equals(order, r.order) && goldAnswer.equals(r.goldAnswer)
        && Objects.equals(predictedCanonical, r.predictedCanonical);
  }

  @Override
  public int hashCode() {
    return Objects.hash(split, sampleId, family, answerKind, imageCount, permIndex, answerPosition, goldAnswer,
        predictedCanonical, predictedPosition, correct, formatOk, responseLength) * 31 + Arrays.hashCode(order);
  }

  @Override
  public String toString() {
    return "EvalRecord[" + split + "/" + sampleId + " (" + family + ", " + answerKind.wireName() + ", "
        + imageCount + " images), perm " + permIndex + " " + Arrays.toString(order) + ", gold " + goldAnswer
        + " @" + answerPosition + ", predicted " + predictedCanonical + " @" + predictedPosition
        + (correct ? ", correct" : ", wrong") + (formatOk ? "" : ", bad format") + ", " + responseLength + " tokens]";
  }
}
