package io.perlspark.common.rl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * DAPO dynamic sampling: draw groups in rounds, keep those the filter accepts, and draw again for
 * the shortfall until the batch is full, the round limit is reached, or the data is exhausted.
 * Deterministic: groups are kept in the order the rounds return them and the batch is truncated
 * to the first {@code targetGroups} kept.
 */
public final class BatchFiller {
  /** Drop-reason key used by {@link #fillWhere} (a predicate gives no reason). */
  public static final String REJECTED = "REJECTED";

  private BatchFiller() {}

  /** One round of drawing: the caller samples more prompts, rolls them out and scores them. */
  @FunctionalInterface
  public interface Round<G> {
    /**
     * @param roundIndex 0 for the first round
     * @param groupsWanted how many groups are still missing (the caller may return more)
     * @return the new groups; an empty list means the data is exhausted and stops the filling
     */
    List<G> draw(int roundIndex, int groupsWanted);
  }

  /**
   * @param kept the kept groups, at most the target, in draw order
   * @param rounds number of times the round function was called (an exhausting empty round counts)
   * @param groupsDrawn groups returned by all rounds
   * @param groupsDropped groups the filter dropped
   * @param dropReasons drop counts by reason name ({@link DropReason#name()} or {@link #REJECTED}),
   *     sorted by name
   * @param full whether {@code kept} reached the target
   * @param exhausted whether a round returned no groups
   */
  public record FillResult<G>(
      List<G> kept,
      int rounds,
      int groupsDrawn,
      int groupsDropped,
      Map<String, Integer> dropReasons,
      boolean full,
      boolean exhausted) {

    public FillResult {
      kept = List.copyOf(kept);
      dropReasons = Collections.unmodifiableMap(new TreeMap<>(dropReasons));
    }

    /** Accepted groups that did not fit into the batch (over-draw). */
    public int groupsSurplus() {
      return groupsDrawn - groupsDropped - kept.size();
    }

    /** Fraction of drawn groups the filter dropped (0 when nothing was drawn). */
    public double dropFraction() {
      return groupsDrawn == 0 ? 0.0 : (double) groupsDropped / groupsDrawn;
    }
  }

  /** Fills with a filter that gives a reason for each drop. */
  public static <G> FillResult<G> fill(
      int targetGroups, int maxRounds, Round<G> round, Function<? super G, Decision> decide) {
    Objects.requireNonNull(decide, "decide");
    return run(targetGroups, maxRounds, round, g -> {
      Decision d = Objects.requireNonNull(decide.apply(g), "filter returned no decision");
      return d.kept() ? null : d.reason().name();
    });
  }

  /** Fills with a plain keep predicate; drops are counted under {@link #REJECTED}. */
  public static <G> FillResult<G> fillWhere(
      int targetGroups, int maxRounds, Round<G> round, Predicate<? super G> keep) {
    Objects.requireNonNull(keep, "keep");
    return run(targetGroups, maxRounds, round, g -> keep.test(g) ? null : REJECTED);
  }

  /** {@code dropReason} returns null to keep a group. */
  private static <G> FillResult<G> run(
      int targetGroups, int maxRounds, Round<G> round, Function<G, String> dropReason) {
    if (targetGroups < 1) {
      throw new IllegalArgumentException("targetGroups must be >= 1, got " + targetGroups);
    }
    if (maxRounds < 1) {
      throw new IllegalArgumentException("maxRounds (max fill attempts) must be >= 1, got " + maxRounds);
    }
    Objects.requireNonNull(round, "round");
    List<G> kept = new ArrayList<>(targetGroups);
    Map<String, Integer> reasons = new TreeMap<>();
    int rounds = 0;
    int drawn = 0;
    int dropped = 0;
    boolean exhausted = false;
    while (rounds < maxRounds && kept.size() < targetGroups) {
      int wanted = targetGroups - kept.size();
      List<G> groups = round.draw(rounds, wanted);
      rounds++;
      if (groups == null) {
        throw new IllegalStateException("fill round " + (rounds - 1) + " returned null; return an "
            + "empty list when the data is exhausted");
      }
      if (groups.isEmpty()) {
        exhausted = true;
        break;
      }
      for (G g : groups) {
        drawn++;
        String reason = dropReason.apply(g);
        if (reason == null) {
          kept.add(g);
        } else {
          dropped++;
          reasons.merge(reason, 1, Integer::sum);
        }
      }
    }
    List<G> batch = kept.size() > targetGroups ? kept.subList(0, targetGroups) : kept;
    return new FillResult<>(batch, rounds, drawn, dropped, reasons, batch.size() == targetGroups,
        exhausted);
  }
}
