package io.perlspark.common.reward;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pulls the final answer out of a response: the content of the last {@code \boxed{…}}
 * ({@link ResponseFormat#THINK_BOXED}) or of the last {@code <answer>…</answer>}
 * ({@link ResponseFormat#ANSWER_TAG}). There is no fallback to free text: a response without the
 * marker has no answer, so it earns no accuracy (the policy must learn to commit to one answer).
 */
public final class AnswerExtractor {
  static final String THINK_OPEN = "<think>";
  static final String THINK_CLOSE = "</think>";
  static final String ANSWER_OPEN = "<answer>";
  static final String ANSWER_CLOSE = "</answer>";

  /** {@code \boxed}, optional whitespace, then the opening brace. */
  private static final Pattern BOXED_OPEN = Pattern.compile("\\\\boxed\\s*\\{");

  private AnswerExtractor() {}

  /** The answer of a response in the given format; empty when there is none. */
  public static Optional<String> extract(String response, ResponseFormat format) {
    Objects.requireNonNull(format, "format");
    if (response == null) {
      return Optional.empty();
    }
    return switch (format) {
      case THINK_BOXED -> lastBoxed(response);
      case ANSWER_TAG -> lastAnswerTag(response);
    };
  }

  /**
   * The trimmed content of the last {@code \boxed{…}}, nested braces matched by counting
   * ({@code \boxed{\frac{1}{2}}} gives {@code \frac{1}{2}}). Escaped braces {@code \{ \}} are
   * literal and do not count. Empty when there is no {@code \boxed}, when the last one is not
   * closed (a truncated response has not committed to an answer), or when its content is blank.
   */
  public static Optional<String> lastBoxed(String text) {
    if (text == null) {
      return Optional.empty();
    }
    Matcher m = BOXED_OPEN.matcher(text);
    int contentStart = -1;
    while (m.find()) {
      contentStart = m.end();
    }
    if (contentStart < 0) {
      return Optional.empty();
    }
    int end = matchingBrace(text, contentStart);
    if (end < 0) {
      return Optional.empty();
    }
    return nonBlank(text.substring(contentStart, end));
  }

  /**
   * The trimmed content of the last {@code <answer>…</answer>}; a {@code \boxed{…}} inside it is
   * unwrapped. Empty when there is no closed answer tag or its content is blank.
   */
  public static Optional<String> lastAnswerTag(String text) {
    if (text == null) {
      return Optional.empty();
    }
    int open = text.lastIndexOf(ANSWER_OPEN);
    if (open < 0) {
      return Optional.empty();
    }
    int start = open + ANSWER_OPEN.length();
    int close = text.indexOf(ANSWER_CLOSE, start);
    if (close < 0) {
      return Optional.empty();
    }
    String content = text.substring(start, close);
    Optional<String> boxed = lastBoxed(content);
    return boxed.isPresent() ? boxed : nonBlank(content);
  }

  /** Index of the brace closing the one opened just before {@code from}, or -1 if unbalanced. */
  static int matchingBrace(String s, int from) {
    int depth = 1;
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        i++;
      } else if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
      n++;
    }
    return n;
  }

  private static Optional<String> nonBlank(String s) {
    String t = s.strip();
    return t.isEmpty() ? Optional.empty() : Optional.of(t);
  }
}
