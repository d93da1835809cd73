package io.perlspark.common.synth;

import java.util.Locale;

/** The colours a synthetic shape can have. Each is a set of full-on RGB channels, so colours stay
 * separable after intensity scaling and pixel noise. */
public enum Colour {
  RED(true, false, false),
  GREEN(false, true, false),
  BLUE(false, false, true),
  YELLOW(true, true, false);

  private final boolean red;
  private final boolean green;
  private final boolean blue;

  Colour(boolean red, boolean green, boolean blue) {
    this.red = red;
    this.green = green;
    this.blue = blue;
  }

  /** Whether the RGB channel (0 = red, 1 = green, 2 = blue) is lit for this colour. */
  public boolean channelOn(int channel) {
    return switch (channel) {
      case 0 -> red;
      case 1 -> green;
      case 2 -> blue;
      default -> throw new IllegalArgumentException("channel must be 0, 1 or 2, got " + channel);
    };
  }

  /** The word used in prompts and answers, e.g. {@code red}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Colour parse(String s) {
    return Wire.parse(Colour.class, values(), s, "colour");
  }
}
