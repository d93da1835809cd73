package io.perlspark.common.permute;

import io.perlspark.common.data.Answers;
import io.perlspark.common.data.Sample;
import java.util.Arrays;
import java.util.List;

/**
 * Rewrites a ground-truth answer for a new image order, so that it points at the same image as
 * before. Order convention throughout the package: {@code order[j]} is the ORIGINAL slot of the
 * image now at slot {@code j}, i.e. {@code newImages.get(j) == oldImages.get(order[j])}.
 */
public final class AnswerRemapper {
  private AnswerRemapper() {}

  /**
   * The answer under {@code order}. Order-insensitive samples, and kinds that do not name images
   * (number, yes/no, text, unbound option letters), keep their answer. Throws
   * {@link IllegalArgumentException} naming the sample when the order is not a permutation of
   * the sample's slots or the answer does not parse for its kind.
   */
  public static String remap(Sample s, int[] order) {
    int[] newSlotOf = inverse(s, order);
    if (!s.orderSensitive()) {
      return s.answer();
    }
    try {
      return switch (s.answerKind()) {
        case IMAGE_INDEX -> {
          int k = Answers.parseIndex(s.answer());
          requireInRange(k, order.length);
          yield Integer.toString(newSlotOf[k - 1] + 1);
        }
        case ORDERING -> {
          int[] seq = Answers.parseIndexSequence(s.answer());
          Answers.checkIndexSequence(seq, order.length, s.answer());
          int[] out = new int[seq.length];
          for (int i = 0; i < seq.length; i++) {
            out[i] = newSlotOf[seq[i] - 1] + 1;
          }
          yield Answers.formatIndexSequence(out);
        }
        case OPTION_LETTER -> s.optionImageSlots().isEmpty() ? s.answer() : remapOption(s, newSlotOf);
        case NUMBER, YES_NO, TEXT -> s.answer();
      };
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sample '" + s.id() + "': cannot remap " + s.answerKind().wireName()
          + " answer '" + s.answer() + "': " + e.getMessage(), e);
    }
  }

  /** Option {@code 'A'+i} names slot {@code optionImageSlots[i]}: find the option whose slot now holds the correct image. */
  private static String remapOption(Sample s, int[] newSlotOf) {
    List<Integer> slots = s.optionImageSlots();
    int i = Answers.parseOptionLetter(s.answer()) - 'A';
    if (i >= slots.size()) {
      throw new IllegalArgumentException("option " + (char) ('A' + i) + " is beyond the " + slots.size()
          + " options bound to image slots");
    }
    int oldSlot = slots.get(i);
    if (oldSlot < 0 || oldSlot >= newSlotOf.length) {
      throw new IllegalArgumentException("option " + (char) ('A' + i) + " is bound to slot " + oldSlot
          + ", outside 0.." + (newSlotOf.length - 1));
    }
    int newSlot = newSlotOf[oldSlot];
    int newOption = slots.indexOf(newSlot);
    if (newOption < 0) {
      throw new IllegalArgumentException("the correct image moved to slot " + newSlot
          + ", which no option names (option slots " + slots + ")");
    }
    return String.valueOf((char) ('A' + newOption));
  }

  private static void requireInRange(int k, int n) {
    if (k > n) {
      throw new IllegalArgumentException("image index " + k + " is outside 1.." + n);
    }
  }

  /** {@code newSlotOf[oldSlot]} = where the image of {@code oldSlot} now is; validates the order. */
  static int[] inverse(Sample s, int[] order) {
    int n = s.imageCount();
    if (order == null || order.length != n) {
      throw new IllegalArgumentException("sample '" + s.id() + "': order has " + (order == null ? "no" : order.length)
          + " entries but the sample has " + n + " images");
    }
    int[] inv = new int[n];
    Arrays.fill(inv, -1);
    for (int j = 0; j < n; j++) {
      int from = order[j];
      if (from < 0 || from >= n || inv[from] != -1) {
        throw new IllegalArgumentException("sample '" + s.id() + "': order " + Arrays.toString(order)
            + " is not a permutation of 0.." + (n - 1));
      }
      inv[from] = j;
    }
    return inv;
  }
}
