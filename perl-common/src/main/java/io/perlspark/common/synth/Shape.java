package io.perlspark.common.synth;

import java.util.Locale;

/** The shapes a synthetic image can show. */
public enum Shape {
  CIRCLE,
  SQUARE,
  TRIANGLE;

  /** The word used in prompts and answers, e.g. {@code circle}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Shape parse(String s) {
    return Wire.parse(Shape.class, values(), s, "shape");
  }
}
