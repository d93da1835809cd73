package io.perlspark.common.config;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Image-order permutation (docs/ARCHITECTURE.md "The method"): each multi-image prompt gets {@code copies} permuted
 * copies with probability p(step); the original and its copies form one GRPO group.
 *
 * @param enabled whether to permute at all
 * @param copies permuted copies per prompt (k), >= 0
 * @param schedule decay of p over the stage: {@code linear} p0·(1 − step/total), {@code exp}
 *     p0·exp(−decayRate·step/total), {@code pow} p0·(1 − step/total)^power, {@code constant} p0;
 *     never below pMin
 * @param p0 starting probability, in [0, 1]
 * @param pMin floor of the probability, in [0, 1] and <= p0
 * @param decayRate rate of the exp schedule, >= 0
 * @param power exponent of the pow schedule, > 0
 * @param slots which image slots may move: {@code all}, {@code skip-first:N} (the first N stay in
 *     place, e.g. a reference image) or {@code list:i,j,...} (0-based slot indices, no duplicates);
 *     parsed by the permutation package, only its syntax is checked here
 */
public record PermutationConfig(
    boolean enabled,
    int copies,
    String schedule,
    double p0,
    double pMin,
    double decayRate,
    double power,
    String slots)
    implements Serializable {

  public static final List<String> SCHEDULES = Checks.list("linear", "exp", "pow", "constant");

  private static final Pattern SLOTS =
      Pattern.compile("all|skip-first:(\\d{1,9})|list:(\\d{1,9}(?:,\\d{1,9})*)");

  public static PermutationConfig defaults() {
    return new PermutationConfig(true, 1, "linear", 1.0, 0.0, 3.0, 2.0, "all");
  }

  /**
   * Whether {@code slots} is well-formed: {@code all}, {@code skip-first:N} with N >= 0, or {@code
   * list:i,j,...} of distinct non-negative integers (no spaces).
   */
  public static boolean isValidSlots(String slots) {
    if (slots == null) {
      return false;
    }
    Matcher m = SLOTS.matcher(slots);
    if (!m.matches()) {
      return false;
    }
    if (m.group(2) != null) {
      Set<Integer> seen = new HashSet<>();
      for (String part : m.group(2).split(",")) {
        if (!seen.add(Integer.parseInt(part))) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Why this setting can never make a permuted copy of any sample, or null when it can: disabled, no
   * copies, a probability that is 0 throughout, or a slot list of fewer than two slots (a
   * permutation needs two slots that may move).
   */
  public String neverPermutesBecause() {
    if (!enabled) {
      return "permutation.enabled is false";
    }
    if (copies == 0) {
      return "permutation.copies is 0";
    }
    if (p0 == 0 && pMin == 0) {
      return "permutation.p0 and pMin are 0";
    }
    if (slots != null && slots.startsWith("list:") && isValidSlots(slots) && !slots.contains(",")) {
      return "permutation.slots " + slots + " names one slot";
    }
    return null;
  }

  void check(Checks c, String path) {
    c.atLeast(Checks.join(path, "copies"), copies, 0);
    c.oneOf(Checks.join(path, "schedule"), schedule, SCHEDULES);
    c.unitClosed(Checks.join(path, "p0"), p0);
    c.unitClosed(Checks.join(path, "pMin"), pMin);
    if (pMin >= 0 && p0 <= 1 && pMin > p0) {
      c.notAllowed(
          Checks.join(path, "pMin"),
          pMin,
          "must be <= " + Checks.join(path, "p0") + " (" + Checks.show(p0) + ")");
    }
    c.nonNegative(Checks.join(path, "decayRate"), decayRate);
    c.positive(Checks.join(path, "power"), power);
    if (!isValidSlots(slots)) {
      c.notAllowed(
          Checks.join(path, "slots"),
          slots,
          "must be all | skip-first:N (N >= 0) | list:i,j,... (distinct 0-based slot indices)");
    }
  }
}
