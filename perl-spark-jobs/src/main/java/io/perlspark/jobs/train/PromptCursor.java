package io.perlspark.jobs.train;

import io.perlspark.common.Seeds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Which prompts a stage draws next. Each data source is walked in a seeded shuffled order, epoch by
 * epoch; each draw picks a source by its mix weight (seeded by the draw index). The whole state is
 * a few integers, saved in every checkpoint, so a resumed run draws exactly what the uninterrupted
 * run would have drawn.
 */
public final class PromptCursor {
  private final long seed;
  private final List<List<String>> ids;
  private final double[] weights;
  private final long[] epoch;
  private final int[] position;
  private final int[][] order;
  private long draws;
  /** Ids drawn since {@link #startStep()}: a step never sees one prompt twice (group ids must be unique). */
  private final Set<String> thisStep = new HashSet<>();

  /**
   * @param ids per source, its prompt ids in a fixed (e.g. sorted) order
   * @param weights per source, its mix weight (> 0)
   */
  public PromptCursor(long seed, List<List<String>> ids, double[] weights) {
    if (ids.isEmpty() || ids.size() != weights.length) {
      throw new IllegalArgumentException("one weight per data source is needed");
    }
    this.seed = seed;
    this.ids = ids;
    this.weights = weights.clone();
    this.epoch = new long[ids.size()];
    this.position = new int[ids.size()];
    this.order = new int[ids.size()][];
    for (int s = 0; s < ids.size(); s++) {
      if (ids.get(s).isEmpty()) {
        throw new IllegalArgumentException("data source " + s + " has no prompts");
      }
      order[s] = shuffled(s, 0);
    }
  }

  private int[] shuffled(int source, long ep) {
    int n = ids.get(source).size();
    int[] o = new int[n];
    for (int i = 0; i < n; i++) {
      o[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, 0x5eed_0001L, source, ep));
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
    return o;
  }

  /** Starts a step: prompts drawn from now on are distinct from each other until the next call. */
  public void startStep() {
    thisStep.clear();
  }

  /** Prompts not yet drawn in this step. */
  public int remainingThisStep() {
    int total = 0;
    for (List<String> l : ids) {
      total += l.size();
    }
    return total - thisStep.size();
  }

  /** The next {@code count} prompt ids, none drawn before in this step. */
  public List<String> next(int count) {
    if (count > remainingThisStep()) {
      throw new IllegalArgumentException("asked for " + count + " more distinct prompts but the stage's data has only "
          + remainingThisStep() + " left for this step");
    }
    List<String> out = new ArrayList<>(count);
    Set<String> seen = thisStep;
    while (out.size() < count) {
      int s = pickSource();
      String id = ids.get(s).get(order[s][position[s]]);
      position[s]++;
      if (position[s] == order[s].length) {
        epoch[s]++;
        position[s] = 0;
        order[s] = shuffled(s, epoch[s]);
      }
      draws++;
      if (seen.add(id)) {
        out.add(id);
      }
    }
    return out;
  }

  private int pickSource() {
    if (weights.length == 1) {
      return 0;
    }
    double sum = 0;
    for (double w : weights) {
      sum += w;
    }
    double u = new SplittableRandom(Seeds.derive(seed, 0x5eed_0002L, draws)).nextDouble() * sum;
    for (int s = 0; s < weights.length; s++) {
      u -= weights[s];
      if (u < 0) {
        return s;
      }
    }
    return weights.length - 1;
  }

  /** Epochs completed by the first source (for logging). */
  public long epoch() {
    return epoch[0];
  }

  public Map<String, String> state() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("draws", Long.toString(draws));
    StringBuilder ep = new StringBuilder();
    StringBuilder pos = new StringBuilder();
    for (int s = 0; s < epoch.length; s++) {
      ep.append(s == 0 ? "" : ",").append(epoch[s]);
      pos.append(s == 0 ? "" : ",").append(position[s]);
    }
    m.put("epochs", ep.toString());
    m.put("positions", pos.toString());
    return m;
  }

  public void restore(Map<String, String> m) {
    draws = Long.parseLong(m.get("draws"));
    String[] ep = m.get("epochs").split(",");
    String[] pos = m.get("positions").split(",");
    if (ep.length != epoch.length) {
      throw new IllegalArgumentException("checkpoint cursor has " + ep.length + " data sources, the stage has " + epoch.length);
    }
    for (int s = 0; s < epoch.length; s++) {
      epoch[s] = Long.parseLong(ep[s]);
      position[s] = Integer.parseInt(pos[s]);
      order[s] = shuffled(s, epoch[s]);
    }
  }
}
