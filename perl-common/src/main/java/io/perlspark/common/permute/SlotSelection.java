package io.perlspark.common.permute;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Which image slots (0-based positions in a sample's image list) a permutation may move. The
 * others stay where they are, e.g. a reference image that the question compares the others to.
 *
 * <p>Text form ({@link #parse}, {@link #toString}): {@code all} | {@code skip-first:N} |
 * {@code list:i,j,k} with 0-based slots, like {@link #of}.
 */
public final class SlotSelection implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final String ALLOWED = "all | skip-first:N | list:i,j,k (0-based slots)";

  private enum Mode { ALL, SKIP_FIRST, LIST }

  private final Mode mode;
  private final int skip;
  private final int[] slots;

  private SlotSelection(Mode mode, int skip, int[] slots) {
    this.mode = mode;
    this.skip = skip;
    this.slots = slots;
  }

  /** Every slot may move. */
  public static SlotSelection all() {
    return new SlotSelection(Mode.ALL, 0, new int[0]);
  }

  /** The first {@code n} slots are reference images and stay; the rest may move. */
  public static SlotSelection skipFirst(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("skip-first count must be >= 0, got " + n);
    }
    return new SlotSelection(Mode.SKIP_FIRST, n, new int[0]);
  }

  /** Exactly these 0-based slots may move (given in any order; duplicates and negatives refused). */
  public static SlotSelection of(int... slots0Based) {
    int[] sorted = slots0Based.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      if (sorted[i] < 0) {
        throw new IllegalArgumentException("slot " + sorted[i] + " is negative; slots are 0-based");
      }
      if (i > 0 && sorted[i] == sorted[i - 1]) {
        throw new IllegalArgumentException("slot " + sorted[i] + " is listed twice");
      }
    }
    return new SlotSelection(Mode.LIST, 0, sorted);
  }

  /** Parses {@code all}, {@code skip-first:N} or {@code list:i,j,k}; errors name the text and the allowed forms. */
  public static SlotSelection parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("slot selection is empty; allowed: " + ALLOWED);
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.equals("all")) {
        return all();
      }
      if (t.startsWith("skip-first:")) {
        return skipFirst(Integer.parseInt(t.substring("skip-first:".length()).trim()));
      }
      if (t.startsWith("list:")) {
        String body = t.substring("list:".length()).trim();
        if (body.isEmpty()) {
          throw new IllegalArgumentException("the list is empty");
        }
        int[] parsed = Arrays.stream(body.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        return of(parsed);
      }
    } catch (IllegalArgumentException e) { // includes NumberFormatException
      throw new IllegalArgumentException("bad slot selection '" + text + "': " + e.getMessage() + "; allowed: " + ALLOWED, e);
    }
    throw new IllegalArgumentException("bad slot selection '" + text + "'; allowed: " + ALLOWED);
  }

  /** The movable slots of a sample with {@code imageCount} images, ascending; slots beyond the count are ignored. */
  public int[] slotsFor(int imageCount) {
    return switch (mode) {
      case ALL -> IntStream.range(0, imageCount).toArray();
      case SKIP_FIRST -> IntStream.range(Math.min(skip, imageCount), imageCount).toArray();
      case LIST -> Arrays.stream(slots).filter(s -> s < imageCount).toArray();
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SlotSelection other && mode == other.mode && skip == other.skip
        && Arrays.equals(slots, other.slots);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * mode.ordinal() + skip) + Arrays.hashCode(slots);
  }

  /** The canonical text form, accepted by {@link #parse}. */
  @Override
  public String toString() {
    return switch (mode) {
      case ALL -> "all";
      case SKIP_FIRST -> "skip-first:" + skip;
      case LIST -> "list:" + String.join(",", Arrays.stream(slots).mapToObj(Integer::toString).toList());
    };
  }
}
