package io.perlspark.common.permute;

import io.perlspark.common.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Permutations of a subset of image slots, as full-length orders in the package convention
 * ({@code order[j]} = original slot of the image now at slot {@code j}); slots outside the
 * movable set always map to themselves.
 */
public final class Permutations {
  private Permutations() {}

  /** Enumerating all orders is refused above this many movable slots (9! = 362,880 orders). */
  public static final int MAX_ENUMERABLE_SLOTS = 9;

  /** Salt that separates evaluation orders from other users of the run seed. */
  private static final long EVAL_DOMAIN = Seeds.hash("perl.permute.eval");

  /** {@code [0, 1, …, n−1]}. */
  public static int[] identity(int imageCount) {
    int[] id = new int[imageCount];
    for (int i = 0; i < imageCount; i++) {
      id[i] = i;
    }
    return id;
  }

  public static boolean isIdentity(int[] order) {
    for (int i = 0; i < order.length; i++) {
      if (order[i] != i) {
        return false;
      }
    }
    return true;
  }

  /** Number of orders of {@code m} movable slots, {@code m!} (saturating at Long.MAX_VALUE). */
  public static long count(int m) {
    long f = 1;
    for (int i = 2; i <= m; i++) {
      if (f > Long.MAX_VALUE / i) {
        return Long.MAX_VALUE;
      }
      f *= i;
    }
    return f;
  }

  /**
   * Every order of the movable {@code slots} (each below {@code imageCount}), identity first,
   * then in lexicographic order of the arrangement.
   */
  public static List<int[]> all(int imageCount, int[] slots) {
    checkSlots(imageCount, slots);
    if (slots.length > MAX_ENUMERABLE_SLOTS) {
      throw new IllegalArgumentException(slots.length + " movable slots have " + slots.length
          + "! orders; enumeration is limited to " + MAX_ENUMERABLE_SLOTS + " slots (use sample(...))");
    }
    int[] sorted = slots.clone();
    Arrays.sort(sorted);
    List<int[]> out = new ArrayList<>();
    int[] arrangement = sorted.clone();
    do {
      int[] order = identity(imageCount);
      for (int i = 0; i < sorted.length; i++) {
        order[sorted[i]] = arrangement[i];
      }
      out.add(order);
    } while (nextPermutation(arrangement));
    return out;
  }

  /** {@link #all} without the identity. */
  public static List<int[]> nonIdentity(int imageCount, int[] slots) {
    List<int[]> all = all(imageCount, slots);
    return all.subList(1, all.size());
  }

  /**
   * A uniformly random non-identity order of the movable slots (rejection sampling of uniform
   * shuffles, so every non-identity order has probability 1/(m!−1)). Needs ≥ 2 slots.
   */
  public static int[] randomNonIdentity(int imageCount, int[] slots, SplittableRandom rng) {
    checkSlots(imageCount, slots);
    if (slots.length < 2) {
      throw new IllegalArgumentException("a non-identity permutation needs >= 2 movable slots, got "
          + Arrays.toString(slots));
    }
    while (true) {
      int[] order = randomOrder(imageCount, slots, rng);
      if (!isIdentity(order)) {
        return order;
      }
    }
  }

  /**
   * Up to {@code maxCount} distinct orders: the identity first, then distinct random non-identity
   * orders. When {@code maxCount} covers all {@code m!} orders, all of them (identity first, the
   * rest shuffled). Meant for evaluation under permutations.
   */
  public static List<int[]> sample(int imageCount, int[] slots, int maxCount, SplittableRandom rng) {
    checkSlots(imageCount, slots);
    if (maxCount < 1) {
      throw new IllegalArgumentException("maxCount must be >= 1, got " + maxCount);
    }
    long total = count(slots.length);
    if (total <= 2L * maxCount) {
      // Few orders: enumerate and shuffle (rejection sampling would stall near the end).
      List<int[]> all = new ArrayList<>(all(imageCount, slots));
      for (int i = all.size() - 1; i > 1; i--) {
        int j = 1 + rng.nextInt(i); // Fisher–Yates over indices 1..i, identity stays first
        int[] t = all.get(i);
        all.set(i, all.get(j));
        all.set(j, t);
      }
      return all.subList(0, (int) Math.min(maxCount, total));
    }
    List<int[]> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int[] id = identity(imageCount);
    out.add(id);
    seen.add(Arrays.toString(id));
    while (out.size() < maxCount) {
      int[] order = randomOrder(imageCount, slots, rng);
      if (seen.add(Arrays.toString(order))) {
        out.add(order);
      }
    }
    return out;
  }

  /**
   * {@link #sample} with a generator seeded from (seed, sample id): the same sample gets the same
   * orders. The seed is first salted for this purpose, so passing the run seed does not correlate
   * these orders with training permutations or rollout sampling drawn from the same seed.
   */
  public static List<int[]> sample(int imageCount, int[] slots, int maxCount, long seed, String sampleId) {
    return sample(imageCount, slots, maxCount, Seeds.rng(Seeds.derive(seed, EVAL_DOMAIN), 0, sampleId, 0, 0));
  }

  /** Applies an order to a list: {@code out.get(j) = in.get(order[j])}. */
  public static <T> List<T> reorder(List<T> in, int[] order) {
    if (order.length != in.size()) {
      throw new IllegalArgumentException("order has " + order.length + " entries for " + in.size() + " items");
    }
    List<T> out = new ArrayList<>(in.size());
    for (int j : order) {
      out.add(in.get(j));
    }
    return out;
  }

  private static int[] randomOrder(int imageCount, int[] slots, SplittableRandom rng) {
    int[] arrangement = slots.clone();
    for (int i = arrangement.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = arrangement[i];
      arrangement[i] = arrangement[j];
      arrangement[j] = t;
    }
    int[] order = identity(imageCount);
    for (int i = 0; i < slots.length; i++) {
      order[slots[i]] = arrangement[i];
    }
    return order;
  }

  private static boolean nextPermutation(int[] a) {
    int i = a.length - 2;
    while (i >= 0 && a[i] >= a[i + 1]) {
      i--;
    }
    if (i < 0) {
      return false;
    }
    int j = a.length - 1;
    while (a[j] <= a[i]) {
      j--;
    }
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = a.length - 1; l < r; l++, r--) {
      t = a[l];
      a[l] = a[r];
      a[r] = t;
    }
    return true;
  }

  private static void checkSlots(int imageCount, int[] slots) {
    boolean[] seen = new boolean[Math.max(imageCount, 0)];
    for (int s : slots) {
      if (s < 0 || s >= imageCount) {
        throw new IllegalArgumentException("slot " + s + " is outside 0.." + (imageCount - 1));
      }
      if (seen[s]) {
        throw new IllegalArgumentException("slot " + s + " is listed twice in " + Arrays.toString(slots));
      }
      seen[s] = true;
    }
  }
}
