package io.perlspark.common.data;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one parser for ground-truth answers in their canonical forms. Validation
 * ({@link SampleValidator}) and permutation remapping ({@code AnswerRemapper}) both use it, so a
 * sample that passes validation is always one whose answer can be remapped.
 *
 * <p>Every method throws {@link IllegalArgumentException} naming the text and the expected form
 * when the text does not parse.
 */
public final class Answers {
  private Answers() {}

  /** Separators accepted between the indices of an ordering: {@code , ; > [ ]} and whitespace. */
  private static final Pattern SEQUENCE_SEPARATORS = Pattern.compile("[\\s,;>\\[\\]]+");
  private static final Pattern UNSIGNED_INT = Pattern.compile("\\d{1,9}");
  private static final Pattern DECIMAL = Pattern.compile("[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)");
  private static final Pattern FRACTION = Pattern.compile("([+-]?\\d+)\\s*/\\s*(\\d+)");

  /** A single 1-based index such as {@code 2} (surrounding whitespace allowed). */
  public static int parseIndex(String text) {
    String t = requireText(text, "an image index").trim();
    if (!UNSIGNED_INT.matcher(t).matches()) {
      throw new IllegalArgumentException("not an image index: '" + text + "' (expected a positive integer such as 2)");
    }
    int v = Integer.parseInt(t);
    if (v < 1) {
      throw new IllegalArgumentException("image index '" + text + "' is not 1-based (must be >= 1)");
    }
    return v;
  }

  /**
   * A sequence of 1-based indices such as {@code 2,3,1}, {@code [2, 3, 1]}, {@code 2 > 3 > 1} or
   * {@code 2;3;1}. Does not check range or distinctness (see {@link #checkIndexSequence}).
   */
  public static int[] parseIndexSequence(String text) {
    String t = requireText(text, "an ordering").trim();
    String[] parts = SEQUENCE_SEPARATORS.split(t);
    int start = parts.length > 0 && parts[0].isEmpty() ? 1 : 0; // a leading '[' yields an empty first part
    if (parts.length - start == 0) {
      throw new IllegalArgumentException("not an ordering: '" + text + "' (expected 1-based indices such as 2,3,1)");
    }
    int[] out = new int[parts.length - start];
    for (int i = start; i < parts.length; i++) {
      String p = parts[i];
      if (!UNSIGNED_INT.matcher(p).matches() || Integer.parseInt(p) < 1) {
        throw new IllegalArgumentException("not an ordering: '" + text + "' (element '" + p
            + "' is not a 1-based index; expected e.g. 2,3,1)");
      }
      out[i - start] = Integer.parseInt(p);
    }
    return out;
  }

  /** Throws unless every index is in {@code 1..imageCount} and no index repeats. */
  public static void checkIndexSequence(int[] indices, int imageCount, String text) {
    boolean[] seen = new boolean[imageCount + 1];
    for (int v : indices) {
      if (v < 1 || v > imageCount) {
        throw new IllegalArgumentException("ordering '" + text + "' has index " + v + " outside 1.." + imageCount);
      }
      if (seen[v]) {
        throw new IllegalArgumentException("ordering '" + text + "' repeats index " + v);
      }
      seen[v] = true;
    }
  }

  /** Writes an index sequence canonically: {@code 2,3,1}. */
  public static String formatIndexSequence(int[] indices) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < indices.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(indices[i]);
    }
    return sb.toString();
  }

  /** A single option letter A–Z (either case, surrounding whitespace allowed); returned upper case. */
  public static char parseOptionLetter(String text) {
    String t = requireText(text, "an option letter").trim();
    char c = t.length() == 1 ? Character.toUpperCase(t.charAt(0)) : 0;
    if (c < 'A' || c > 'Z') {
      throw new IllegalArgumentException("not an option letter: '" + text + "' (expected a single letter A-Z)");
    }
    return c;
  }

  /** {@code yes} or {@code no}, any case. */
  public static boolean parseYesNo(String text) {
    String t = requireText(text, "yes/no").trim().toLowerCase(Locale.ROOT);
    return switch (t) {
      case "yes" -> true;
      case "no" -> false;
      default -> throw new IllegalArgumentException("not yes/no: '" + text + "' (expected yes or no)");
    };
  }

  /** An integer, decimal ({@code 0.5}, {@code .5}) or fraction ({@code 1/2}); a zero denominator is refused. */
  public static double parseNumber(String text) {
    String t = requireText(text, "a number").trim();
    if (DECIMAL.matcher(t).matches()) {
      return Double.parseDouble(t);
    }
    var m = FRACTION.matcher(t);
    if (m.matches()) {
      double den = Double.parseDouble(m.group(2));
      if (den == 0) {
        throw new IllegalArgumentException("number '" + text + "' has a zero denominator");
      }
      return Double.parseDouble(m.group(1)) / den;
    }
    throw new IllegalArgumentException("not a number: '" + text + "' (expected an integer, decimal or fraction such as 3, 0.5, 1/2)");
  }

  /**
   * Checks that an answer has the form its kind requires, for a sample with {@code imageCount}
   * images and the given option slots (empty when options are not bound to images).
   */
  public static void check(String answer, AnswerKind kind, int imageCount, java.util.List<Integer> optionImageSlots) {
    switch (kind) {
      case IMAGE_INDEX -> {
        int k = parseIndex(answer);
        if (k > imageCount) {
          throw new IllegalArgumentException("image index " + k + " is outside 1.." + imageCount);
        }
      }
      case ORDERING -> checkIndexSequence(parseIndexSequence(answer), imageCount, answer);
      case OPTION_LETTER -> {
        char c = parseOptionLetter(answer);
        if (!optionImageSlots.isEmpty() && c - 'A' >= optionImageSlots.size()) {
          throw new IllegalArgumentException("option " + c + " is beyond the " + optionImageSlots.size()
              + " options bound to image slots (A.." + (char) ('A' + optionImageSlots.size() - 1) + ")");
        }
      }
      case YES_NO -> parseYesNo(answer);
      case NUMBER -> parseNumber(answer);
      case TEXT -> requireText(answer, "text");
    }
  }

  private static String requireText(String text, String what) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("expected " + what + " but the answer is empty");
    }
    return text;
  }
}
