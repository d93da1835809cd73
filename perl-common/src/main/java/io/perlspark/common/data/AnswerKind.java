package io.perlspark.common.data;

import java.util.Locale;

/**
 * What kind of value a sample's answer is. Decides how the reward compares answers and how a
 * permutation of the images remaps the answer.
 */
public enum AnswerKind {
  /** An option letter, e.g. {@code B}. Remapped only when the options are bound to image slots. */
  OPTION_LETTER,
  /** A number: integer, decimal or fraction, e.g. {@code 3}, {@code 0.5}, {@code 1/2}. Order-invariant. */
  NUMBER,
  /** A 1-based image index, e.g. {@code 2} for the second image. Remapped by the permutation. */
  IMAGE_INDEX,
  /** yes / no. Order-invariant. */
  YES_NO,
  /** Short free text, compared after normalisation. Order-invariant. */
  TEXT,
  /** A sequence of 1-based image indices, e.g. {@code 2,3,1}. Each element is remapped. */
  ORDERING;

  /** Parses {@code image_index}, {@code IMAGE-INDEX}, {@code imageIndex} alike. */
  public static AnswerKind parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("answer kind is missing; allowed: " + allowed());
    }
    String norm = s.trim().replaceAll("([a-z])([A-Z])", "$1_$2").replace('-', '_').toUpperCase(Locale.ROOT);
    for (AnswerKind k : values()) {
      if (k.name().equals(norm)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown answer kind '" + s + "'; allowed: " + allowed());
  }

  public static String allowed() {
    StringBuilder sb = new StringBuilder();
    for (AnswerKind k : values()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(k.wireName());
    }
    return sb.toString();
  }

  /** The name used in files: lower snake case. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
