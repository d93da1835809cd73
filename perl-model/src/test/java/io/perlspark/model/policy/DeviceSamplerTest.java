package io.perlspark.model.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The device sampler against {@link TokenSampler}, the Java rule it reproduces: same ids from the
 * same seeds and logits (greedy exactly; sampled, the measured agreement is printed and must be
 * at least 99.9%), the same log-probs, and sampled frequencies that match the top-p distribution.
 */
class DeviceSamplerTest {
  private static final float[][] SETTINGS = {
    {0f, 1f}, {1f, 1f}, {0.7f, 1f}, {1f, 0.9f}, {1.3f, 0.5f}, {0.8f, 0.95f}};

  /** Random logits: gaussian floats, or few distinct values (many exact ties, as bf16 logits). */
  private static float[] randomLogits(SplittableRandom rng, int rows, int vocab, boolean ties) {
    float[] z = new float[rows * vocab];
    for (int i = 0; i < z.length; i++) {
      double g = rng.nextGaussian() * 3;
      z[i] = ties ? (float) (Math.rint(g * 2) / 2) : (float) g;
    }
    return z;
  }

  private record Agreement(long compared, long equal, double worstLogProb) {}

  private static Agreement compare(NDManager m, float temperature, float topP, int rows,
      int vocab, int steps, boolean ties, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] seeds = rng.longs(rows).toArray();
    int[] banned = {3, 7, vocab - 1, vocab + 5};
    TokenSampler java = new TokenSampler(seeds, temperature, topP, vocab);
    long compared = 0;
    long equal = 0;
    double worst = 0;
    boolean[] active = new boolean[rows];
    Arrays.fill(active, true);
    try (DeviceSampler device = new DeviceSampler(m, seeds, temperature, topP, vocab)) {
      DeviceSampler.Banned bannedOnDevice = device.ban(banned);
      for (int s = 0; s < steps; s++) {
        boolean ban = s % 2 == 0;
        float[] logits = randomLogits(rng, rows, vocab, ties);
        try (NDManager step = m.newSubManager()) {
          NDArray onDevice = step.create(logits, new Shape(rows, vocab));
          DeviceSampler.Picks picks =
              device.next(onDevice, active, ban ? bannedOnDevice : device.none());
          assertArrayEquals(Arrays.stream(picks.tokens()).asLongStream().toArray(),
              picks.ids().toLongArray(), "ids on the device equal the ids in Java");
          for (int b = 0; b < rows; b++) {
            if (!active[b]) {
              continue;
            }
            int expected = java.next(b, logits, b * vocab, ban ? banned : new int[0]);
            compared++;
            if (expected == picks.tokens()[b]) {
              equal++;
              worst = Math.max(worst, Math.abs(java.lastLogProb() - picks.logProbs()[b]));
            }
            if (ban) {
              int t = picks.tokens()[b];
              assertTrue(t != 3 && t != 7 && t != vocab - 1, "banned id " + t + " picked");
            }
          }
        }
        // rows stop at different steps: a stopped row must not consume randomness
        active[(s * 5) % rows] = false;
      }
    }
    return new Agreement(compared, equal, worst);
  }

  @Test
  void agreesWithTokenSamplerOnRandomLogits() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME)) {
      long compared = 0;
      long equal = 0;
      for (float[] setting : SETTINGS) {
        for (boolean ties : new boolean[] {false, true}) {
          Agreement a = compare(m, setting[0], setting[1], 12, 3000, 10, ties, 17);
          System.out.printf("DeviceSampler vs TokenSampler T=%s top-p=%s ties=%s: %d/%d equal,"
              + " worst log-prob difference %.2e%n", setting[0], setting[1], ties, a.equal(),
              a.compared(), a.worstLogProb());
          if (setting[0] == 0f) {
            assertEquals(a.compared(), a.equal(), "greedy ids must be equal");
          }
          assertTrue(a.worstLogProb() < 1e-5, "log-prob difference " + a.worstLogProb());
          compared += a.compared();
          equal += a.equal();
        }
      }
      System.out.printf("DeviceSampler vs TokenSampler: %d of %d ids equal (%.4f%%)%n", equal,
          compared, 100.0 * equal / compared);
      assertTrue(equal >= compared * 0.999, equal + " of " + compared + " equal");
    }
  }

  @Test
  void agreesWithTokenSamplerOnTheQwenVocabulary() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME)) {
      for (float[] setting : new float[][] {{0f, 1f}, {1f, 1f}, {1f, 0.9f}}) {
        Agreement a = compare(m, setting[0], setting[1], 4, 151_936, 3, false, 5);
        assertEquals(a.compared(), a.equal(), "T=" + setting[0] + " top-p=" + setting[1]);
        assertTrue(a.worstLogProb() < 1e-5, "log-prob difference " + a.worstLogProb());
      }
    }
  }

  /**
   * Frequencies of one draw per row over many rows (each its own seed) against the nucleus
   * distribution computed here from its definition; chi-square at p = 1e-4, and ids outside the
   * nucleus or banned never drawn.
   */
  @Test
  void sampledFrequenciesFollowTheTopPDistribution() {
    float[] logits = {1.0f, 2.0f, 0.5f, 1.5f, -1.0f, 0.0f};
    frequencies(logits, 1f, 0.8f, new int[0]);
    frequencies(logits, 1f, 0.8f, new int[] {1});
    frequencies(logits, 0.5f, 1f, new int[] {3});
    frequencies(logits, 2f, 0.999f, new int[0]);
  }

  private static void frequencies(float[] logits, float temperature, float topP, int[] banned) {
    int vocab = logits.length;
    int rows = 20_000;
    double[] w = new double[vocab];
    for (int i = 0; i < vocab; i++) {
      w[i] = Math.exp(logits[i] / (double) temperature);
    }
    for (int id : banned) {
      w[id] = 0;
    }
    Integer[] order = new Integer[vocab];
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(w[b], w[a]));
    double total = Arrays.stream(w).sum();
    double[] expected = new double[vocab];
    double kept = 0;
    for (int k = 0; k < vocab && w[order[k]] > 0 && kept < topP * total; k++) {
      expected[order[k]] = w[order[k]];
      kept += w[order[k]];
    }
    float[] batch = new float[rows * vocab];
    long[] seeds = new long[rows];
    for (int b = 0; b < rows; b++) {
      System.arraycopy(logits, 0, batch, b * vocab, vocab);
      seeds[b] = 1_000_003L * b;
    }
    boolean[] active = new boolean[rows];
    Arrays.fill(active, true);
    long[] counts = new long[vocab];
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
        DeviceSampler sampler = new DeviceSampler(m, seeds, temperature, topP, vocab)) {
      DeviceSampler.Picks picks =
          sampler.next(m.create(batch, new Shape(rows, vocab)), active, sampler.ban(banned));
      for (int t : picks.tokens()) {
        counts[t]++;
      }
    }
    double chi2 = 0;
    int cells = 0;
    for (int i = 0; i < vocab; i++) {
      if (expected[i] == 0) {
        assertEquals(0, counts[i], "id " + i + " is outside the nucleus or banned: "
            + Arrays.toString(counts));
        continue;
      }
      double e = rows * expected[i] / kept;
      chi2 += (counts[i] - e) * (counts[i] - e) / e;
      cells++;
    }
    // chi-square quantiles at 1 - 1e-4 for 1..5 degrees of freedom
    double[] critical = {15.14, 18.42, 21.11, 23.51, 25.74};
    System.out.printf("T=%s top-p=%s banned=%s: counts %s, chi2 %.2f (%d cells)%n", temperature,
        topP, Arrays.toString(banned), Arrays.toString(counts), chi2, cells);
    assertTrue(cells >= 2, "the test needs a nucleus of two ids or more");
    assertTrue(chi2 < critical[cells - 2], "chi2 " + chi2 + " with " + (cells - 1) + " dof");
  }

  @Test
  void logitsOfTheWrongShapeAreRefused() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME);
        DeviceSampler sampler = new DeviceSampler(m, new long[] {1, 2}, 1f, 1f, 10)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> sampler.next(m.zeros(new Shape(3, 10)), new boolean[3], sampler.none()));
      assertTrue(e.getMessage().contains("[2, 10]"), e.getMessage());
    }
  }
}
