package io.perlspark.common.synth;

import java.util.Locale;

/**
 * The splits of the synthetic benchmark. Each split draws from its own seed stream, so the same
 * index in two splits gives unrelated items.
 */
public enum Split {
  /** RL training prompts: the answer image of which_image / which_option sits first with
   * probability {@code trainPositionBias}. */
  TRAIN,
  /** Balanced evaluation: every (image count, answer position) cell equally often; see
   * {@link SyntheticBenchmark} for the exact layout. */
  EVAL,
  /** The supervised warm-start slice: drawn like {@link #TRAIN} (position-biased), from its own stream. */
  SFT;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Split parse(String s) {
    return Wire.parse(Split.class, values(), s, "split");
  }
}
