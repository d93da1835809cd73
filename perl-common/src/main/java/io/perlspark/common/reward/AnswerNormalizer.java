package io.perlspark.common.reward;

import io.perlspark.common.data.AnswerKind;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns an extracted answer into the canonical form of its {@link AnswerKind}, so that answers can
 * be compared with the ground truth and with each other (eval compares answers across
 * permutations). Parsing is deliberately strict: an answer that could mean two things (e.g.
 * {@code 12} for an image index, {@code yesterday} for yes/no) has no canonical form rather than a
 * guessed one.
 *
 * <table>
 *   <caption>Canonical forms</caption>
 *   <tr><th>kind</th><th>accepted (examples)</th><th>canonical</th></tr>
 *   <tr><td>OPTION_LETTER</td><td>B, (b), B., B), [B], Option B, the answer is B, B: a red circle</td><td>B</td></tr>
 *   <tr><td>NUMBER</td><td>-3, 1,000, 0.5, .5, 1e3, 1/2, \frac{1}{2}, \dfrac12, $\frac{1}{2}$</td><td>-3, 1000, 0.5, 1000</td></tr>
 *   <tr><td>IMAGE_INDEX</td><td>2, image 2, Image-2, img2, the 2nd image, second image, (2)</td><td>2</td></tr>
 *   <tr><td>YES_NO</td><td>Yes, yes., YES!, no, No, they differ</td><td>yes / no</td></tr>
 *   <tr><td>TEXT</td><td>The Red Circle!</td><td>red circle</td></tr>
 *   <tr><td>ORDERING</td><td>2,3,1; 2 3 1; [2, 3, 1]; 2 &gt; 3 &gt; 1; image 2, image 3, image 1</td><td>2,3,1</td></tr>
 * </table>
 */
public final class AnswerNormalizer {
  /** Relative tolerance for NUMBER answers. */
  public static final double NUMBER_RELATIVE_TOLERANCE = 1e-6;

  private static final Pattern LATEX_TEXT_WRAPPER =
      Pattern.compile("\\\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\\s*\\{([^{}]*)\\}");
  private static final Pattern LATEX_SPACING = Pattern.compile("\\\\[,;:! ]|~");
  private static final Pattern TRAILING_PUNCT = Pattern.compile("[\\s.!?;。]+$");

  private static final String PREFIX =
      "(?:(?:the\\s+)?(?:correct\\s+|final\\s+)?(?:answer|option|choice)(?:\\s+is)?\\s*[:：]?\\s*)?";
  /** A letter, optionally bracketed, then nothing or a separator and free text (the option's text). */
  private static final Pattern OPTION_BRACKETED =
      Pattern.compile("^" + PREFIX + "[(\\[]([a-z])[)\\]](?:\\s*[.:]?\\s+.*)?$",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
  private static final Pattern OPTION_BARE =
      Pattern.compile("^" + PREFIX + "([a-z])(?:[.:)](?:\\s+.*)?)?$",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  private static final Pattern DECIMAL =
      Pattern.compile("^[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[+-]?\\d+)?$", Pattern.CASE_INSENSITIVE);
  private static final Pattern THOUSANDS = Pattern.compile("^[+-]?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?$");
  private static final Pattern SLASH_FRACTION = Pattern.compile("^([+-]?[\\d.]+)\\s*/\\s*([+-]?[\\d.]+)$");
  private static final Pattern LATEX_FRACTION =
      Pattern.compile("^([+-]?)\\\\[dt]?frac\\s*(?:\\{([^{}]+)\\}|(\\d))\\s*(?:\\{([^{}]+)\\}|(\\d))$");

  private static final String IMAGE_WORD = "(?:image|img|picture|pic|photo)";
  private static final Pattern INDEX_PLAIN = Pattern.compile("^(\\d{1,9})$");
  private static final Pattern INDEX_NAMED =
      Pattern.compile("^(?:the\\s+)?" + IMAGE_WORD + "\\s*[-_#:]?\\s*(\\d{1,9})$");
  private static final Pattern INDEX_NUMERIC_ORDINAL =
      Pattern.compile("^(?:the\\s+)?(\\d{1,9})(?:st|nd|rd|th)(?:\\s+(?:" + IMAGE_WORD + "|one))?$");
  private static final Pattern INDEX_WORD_ORDINAL =
      Pattern.compile("^(?:the\\s+)?([a-z]+)(?:\\s+(?:" + IMAGE_WORD + "|one))?$");
  private static final List<String> ORDINAL_WORDS = List.of(
      "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth");

  private static final Pattern ORDERING_SEPARATOR =
      Pattern.compile("\\s*(?:->|=>|→|>|,|;|\\band\\b|\\bthen\\b)\\s*");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private static final Pattern YES_NO = Pattern.compile("^(yes|no)(?:[.!?,;:]+.*)?$", Pattern.DOTALL);

  private static final Pattern PUNCTUATION = Pattern.compile("\\p{P}+");
  private static final Pattern ARTICLES = Pattern.compile("\\b(?:a|an|the)\\b");

  private AnswerNormalizer() {}

  /**
   * The canonical string of an answer of the given kind ({@code B}, {@code 0.5}, {@code 2},
   * {@code yes}, {@code red circle}, {@code 2,3,1}); empty when the text is not a valid answer of
   * that kind. Two answers are the same iff their canonical strings are equal (for NUMBER, the
   * canonical string is exact for integers and 10 significant digits otherwise; {@link #matches}
   * uses the relative tolerance instead).
   */
  public static Optional<String> canonical(String extracted, AnswerKind kind) {
    Objects.requireNonNull(kind, "kind");
    if (extracted == null) {
      return Optional.empty();
    }
    return switch (kind) {
      case OPTION_LETTER -> optionLetter(extracted).map(String::valueOf);
      case NUMBER -> {
        OptionalDouble v = parseNumber(extracted);
        yield v.isPresent() ? Optional.of(canonicalNumber(v.getAsDouble())) : Optional.empty();
      }
      case IMAGE_INDEX -> {
        OptionalInt i = parseImageIndex(extracted);
        yield i.isPresent() ? Optional.of(Integer.toString(i.getAsInt())) : Optional.empty();
      }
      case YES_NO -> yesNo(extracted);
      case TEXT -> {
        String t = normalizeText(extracted);
        yield t.isEmpty() ? Optional.empty() : Optional.of(t);
      }
      case ORDERING -> parseOrdering(extracted)
          .map(l -> l.stream().map(String::valueOf).collect(Collectors.joining(",")));
    };
  }

  /**
   * Whether an extracted answer equals the ground truth under the kind's comparison.
   *
   * @throws IllegalArgumentException when the ground truth itself is not a valid answer of the
   *     kind (a data error that must not silently score 0)
   */
  public static boolean matches(String extracted, String truth, AnswerKind kind) {
    Objects.requireNonNull(kind, "kind");
    if (kind == AnswerKind.NUMBER) {
      OptionalDouble t = parseNumber(truth);
      if (t.isEmpty()) {
        throw invalidTruth(truth, kind);
      }
      OptionalDouble e = parseNumber(extracted);
      return e.isPresent() && numbersEqual(e.getAsDouble(), t.getAsDouble());
    }
    String t = canonical(truth, kind).orElseThrow(() -> invalidTruth(truth, kind));
    return canonical(extracted, kind).map(t::equals).orElse(false);
  }

  /** Equal within {@link #NUMBER_RELATIVE_TOLERANCE} of the larger magnitude. */
  public static boolean numbersEqual(double a, double b) {
    if (a == b) {
      return true;
    }
    return Math.abs(a - b) <= NUMBER_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
  }

  /** The option letter, upper case. */
  public static Optional<Character> optionLetter(String text) {
    String s = stripTrailingPunctuation(clean(text));
    for (Pattern p : List.of(OPTION_BRACKETED, OPTION_BARE)) {
      Matcher m = p.matcher(s);
      if (m.matches()) {
        return Optional.of(Character.toUpperCase(m.group(1).charAt(0)));
      }
    }
    return Optional.empty();
  }

  /** An integer, decimal, thousands-separated, {@code a/b} or {@code \frac{a}{b}} number. */
  public static OptionalDouble parseNumber(String text) {
    if (text == null) {
      return OptionalDouble.empty();
    }
    String s = stripTrailingPunctuation(clean(text).replace('−', '-'));
    s = s.replaceAll("\\s+", " ").strip();
    if (THOUSANDS.matcher(s).matches()) {
      s = s.replace(",", "");
    }
    if (DECIMAL.matcher(s).matches()) {
      return finite(Double.parseDouble(s));
    }
    Matcher slash = SLASH_FRACTION.matcher(s);
    if (slash.matches()) {
      return divide(slash.group(1), slash.group(2), false);
    }
    Matcher frac = LATEX_FRACTION.matcher(s);
    if (frac.matches()) {
      String num = frac.group(2) != null ? frac.group(2) : frac.group(3);
      String den = frac.group(4) != null ? frac.group(4) : frac.group(5);
      return divide(num.strip(), den.strip(), frac.group(1).equals("-"));
    }
    return OptionalDouble.empty();
  }

  /** A 1-based image index. */
  public static OptionalInt parseImageIndex(String text) {
    if (text == null) {
      return OptionalInt.empty();
    }
    String s = unwrap(stripTrailingPunctuation(clean(text).toLowerCase(Locale.ROOT)));
    OptionalInt whole = indexToken(s);
    if (whole.isPresent()) {
      return whole;
    }
    // "image 2: the red circle" — the index, then a description of that image.
    int colon = s.indexOf(':');
    return colon > 0 ? indexToken(s.substring(0, colon).strip()) : OptionalInt.empty();
  }

  /** A sequence of 1-based image indices. */
  public static Optional<List<Integer>> parseOrdering(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String s = unwrap(stripTrailingPunctuation(clean(text).toLowerCase(Locale.ROOT)));
    if (s.isEmpty()) {
      return Optional.empty();
    }
    String[] parts = ORDERING_SEPARATOR.split(s, -1);
    if (parts.length == 1) {
      OptionalInt single = indexToken(s);
      if (single.isPresent()) {
        return Optional.of(List.of(single.getAsInt()));
      }
      // "2 3 1": plain numbers separated by spaces only.
      parts = WHITESPACE.split(s);
      for (String p : parts) {
        if (!INDEX_PLAIN.matcher(p).matches()) {
          return Optional.empty();
        }
      }
    }
    List<Integer> order = new ArrayList<>(parts.length);
    for (String p : parts) {
      OptionalInt i = indexToken(unwrap(p.strip()));
      if (i.isEmpty()) {
        return Optional.empty();
      }
      order.add(i.getAsInt());
    }
    return Optional.of(List.copyOf(order));
  }

  /** SQuAD-style text normalisation: lower case, punctuation and articles removed, spaces collapsed. */
  public static String normalizeText(String text) {
    if (text == null) {
      return "";
    }
    String s = clean(text).toLowerCase(Locale.ROOT);
    s = PUNCTUATION.matcher(s).replaceAll(" ");
    s = ARTICLES.matcher(s).replaceAll(" ");
    return WHITESPACE.matcher(s).replaceAll(" ").strip();
  }

  private static Optional<String> yesNo(String text) {
    String s = clean(text).toLowerCase(Locale.ROOT);
    Matcher m = YES_NO.matcher(s);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }

  private static OptionalInt indexToken(String s) {
    for (Pattern p : List.of(INDEX_PLAIN, INDEX_NAMED, INDEX_NUMERIC_ORDINAL)) {
      Matcher m = p.matcher(s);
      if (m.matches()) {
        int i = Integer.parseInt(m.group(1));
        return i >= 1 ? OptionalInt.of(i) : OptionalInt.empty();
      }
    }
    Matcher m = INDEX_WORD_ORDINAL.matcher(s);
    if (m.matches()) {
      int i = ORDINAL_WORDS.indexOf(m.group(1));
      return i >= 0 ? OptionalInt.of(i + 1) : OptionalInt.empty();
    }
    return OptionalInt.empty();
  }

  /** Integers exactly, other values to 10 significant digits, never "-0". */
  static String canonicalNumber(double v) {
    if (v == 0.0) {
      return "0";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return new BigDecimal(v).round(new MathContext(10)).stripTrailingZeros().toPlainString();
  }

  private static OptionalDouble divide(String num, String den, boolean negate) {
    if (!DECIMAL.matcher(num).matches() || !DECIMAL.matcher(den).matches()) {
      return OptionalDouble.empty();
    }
    double d = Double.parseDouble(den);
    if (d == 0.0) {
      return OptionalDouble.empty();
    }
    double v = Double.parseDouble(num) / d;
    return finite(negate ? -v : v);
  }

  private static OptionalDouble finite(double v) {
    return Double.isFinite(v) ? OptionalDouble.of(v) : OptionalDouble.empty();
  }

  /** Removes LaTeX/markdown wrapping that does not change the answer. */
  static String clean(String text) {
    String s = text.strip();
    String prev;
    do {
      prev = s;
      s = LATEX_TEXT_WRAPPER.matcher(s).replaceAll(m -> Matcher.quoteReplacement(m.group(1)));
    } while (!s.equals(prev));
    s = s.replace("\\left", "").replace("\\right", "");
    s = LATEX_SPACING.matcher(s).replaceAll(" ");
    s = s.replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "");
    s = s.replace("$", "").replace("**", "");
    s = s.strip();
    if (s.length() >= 2 && isQuote(s.charAt(0)) && isQuote(s.charAt(s.length() - 1))) {
      s = s.substring(1, s.length() - 1).strip();
    }
    return s;
  }

  private static boolean isQuote(char c) {
    return c == '"' || c == '\'' || c == '“' || c == '”' || c == '`';
  }

  private static String stripTrailingPunctuation(String s) {
    return TRAILING_PUNCT.matcher(s).replaceAll("");
  }

  /** Drops one pair of enclosing brackets: {@code (2)}, {@code [2, 3, 1]}, {@code <2>}. */
  private static String unwrap(String s) {
    if (s.length() >= 2) {
      char first = s.charAt(0);
      char last = s.charAt(s.length() - 1);
      if ((first == '(' && last == ')') || (first == '[' && last == ']')
          || (first == '{' && last == '}') || (first == '<' && last == '>')) {
        return s.substring(1, s.length() - 1).strip();
      }
    }
    return s;
  }

  private static IllegalArgumentException invalidTruth(String truth, AnswerKind kind) {
    return new IllegalArgumentException("ground truth '" + truth + "' is not a valid "
        + kind.wireName() + " answer");
  }
}
