package io.perlspark.common.reward;

import java.util.Locale;

/** The response layout the policy is trained to produce. */
public enum ResponseFormat {
  /** {@code <think>…</think>} then text containing {@code \boxed{answer}} (PeRL / EasyR1 math format). */
  THINK_BOXED("think-boxed"),
  /** {@code <think>…</think>} then {@code <answer>answer</answer>}. */
  ANSWER_TAG("answer-tag");

  private final String wireName;

  ResponseFormat(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /** Parses {@code think-boxed} / {@code answer-tag}; underscores and case are tolerated. */
  public static ResponseFormat parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("response format is missing; allowed: " + allowed());
    }
    String norm = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (ResponseFormat f : values()) {
      if (f.wireName.equals(norm)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown response format '" + s + "'; allowed: " + allowed());
  }

  public static String allowed() {
    return THINK_BOXED.wireName + ", " + ANSWER_TAG.wireName;
  }
}
