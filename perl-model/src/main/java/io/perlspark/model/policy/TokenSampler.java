package io.perlspark.model.policy;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of each sequence from its logits, in Java, with one random stream per
 * sequence ({@code SplittableRandom(seeds[b])}, one draw per sampled token), so a sequence's tokens
 * depend only on its own seed and logits. Shared by the model families, so that every family samples
 * by the same rule from the same seeds. Some ids can be banned (a family's special tokens that
 * must never be generated, or eos before a minimum length).
 *
 * <p>The reported log-probability is under the full, unmasked {@code softmax(logits / T)} (T = 1
 * when greedy): the distribution that scoring recomputes, so rollout and scoring agree.
 */
public final class TokenSampler {
  private static final int[] NONE = new int[0];

  private final SplittableRandom[] rngs;
  private final float temperature;
  private final float topP;
  private final int vocab;
  private final double[] weights;
  private final Integer[] order;
  private float lastLogProb;

  public TokenSampler(GenerationOptions options, int vocab) {
    this(options.seeds(), options.temperature(), options.topP(), vocab);
  }

  public TokenSampler(long[] seeds, float temperature, float topP, int vocab) {
    this.rngs = streams(seeds);
    this.temperature = temperature;
    this.topP = topP;
    this.vocab = vocab;
    this.weights = new double[vocab];
    this.order = topP < 1f ? new Integer[vocab] : null;
  }

  /**
   * One random stream per sequence, {@code SplittableRandom(seeds[i])}: the rule every sampler
   * (this one and {@link DeviceSampler}) draws by, so a sequence's tokens depend only on its seed.
   */
  static SplittableRandom[] streams(long[] seeds) {
    SplittableRandom[] rngs = new SplittableRandom[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      rngs[i] = new SplittableRandom(seeds[i]);
    }
    return rngs;
  }

  /** The log-probability of the token last returned by {@link #next}. */
  public float lastLogProb() {
    return lastLogProb;
  }

  /** Samples the next token of sequence {@code row} from {@code logits[offset, offset + vocab)}. */
  public int next(int row, float[] logits, int offset) {
    return next(row, logits, offset, NONE);
  }

  /**
   * Samples from {@code logits[offset, offset + vocab)} with the ids in {@code banned} (sorted or
   * not; ids outside the vocabulary are ignored) given probability 0.
   */
  public int next(int row, float[] logits, int offset, int[] banned) {
    double t = temperature == 0f ? 1.0 : temperature;
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i] / t);
    }
    double fullSum = 0;
    for (int i = 0; i < vocab; i++) {
      double w = Math.exp(logits[offset + i] / t - max);
      weights[i] = w;
      fullSum += w;
    }
    double sum = fullSum;
    for (int id : banned) {
      if (id >= 0 && id < vocab && weights[id] > 0) {
        sum -= weights[id];
        weights[id] = 0;
      }
    }
    int token;
    if (temperature == 0f) {
      token = argmax(logits, offset, banned);
    } else if (order == null) {
      token = inverseCdf(rngs[row].nextDouble() * sum);
    } else {
      token = nucleus(rngs[row].nextDouble(), sum);
    }
    lastLogProb = (float) (logits[offset + token] / t - max - Math.log(fullSum));
    return token;
  }

  private int argmax(float[] logits, int offset, int[] banned) {
    int best = -1;
    float bestValue = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      if ((best < 0 || logits[offset + i] > bestValue) && !contains(banned, i)) {
        best = i;
        bestValue = logits[offset + i];
      }
    }
    return best;
  }

  private static boolean contains(int[] ids, int id) {
    for (int x : ids) {
      if (x == id) {
        return true;
      }
    }
    return false;
  }

  private int inverseCdf(double u) {
    double acc = 0;
    int last = 0;
    for (int i = 0; i < vocab; i++) {
      if (weights[i] > 0) {
        acc += weights[i];
        last = i;
        if (u < acc) {
          return i;
        }
      }
    }
    return last;
  }

  /** Samples from the smallest most-likely set whose probability reaches topP. */
  private int nucleus(double uniform, double sum) {
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> {
      int c = Double.compare(weights[b], weights[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    double threshold = topP * sum;
    double kept = 0;
    int size = 0;
    while (size < vocab && weights[order[size]] > 0) {
      kept += weights[order[size]];
      size++;
      if (kept >= threshold) {
        break;
      }
    }
    double u = uniform * kept;
    double acc = 0;
    for (int k = 0; k < size; k++) {
      acc += weights[order[k]];
      if (u < acc) {
        return order[k];
      }
    }
    return order[Math.max(0, size - 1)];
  }
}
