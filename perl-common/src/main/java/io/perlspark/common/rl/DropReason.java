package io.perlspark.common.rl;

import java.util.Locale;

/** Why the online filter dropped a group. */
public enum DropReason {
  /** The filter metric has std 0 in the group (or the group has one response): no GRPO signal. */
  ZERO_VARIANCE,
  /** Mean accuracy below {@code minGroupAcc}. */
  BELOW_MIN_ACC,
  /** Mean accuracy above {@code maxGroupAcc}. */
  ABOVE_MAX_ACC;

  /** Lower snake case, for metric names. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
