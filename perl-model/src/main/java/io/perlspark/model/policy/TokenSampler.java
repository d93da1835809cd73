package io.perlspark.model.policy;

import java.util.SplittableRandom;

/**
 * Picks the next token of each sequence from its logits, in Java, with one random stream per
 * sequence ({@code SplittableRandom(seeds[b])}, one draw per sampled token), so a sequence's tokens
 * depend only on its own seed and logits. Shared by the model families, so that every family samples
 * by the same rule from the same seeds.
 */
public final class TokenSampler {
  private final SplittableRandom[] rngs;
  private final float temperature;
  private final float topP;
  private final int vocab;
  private final double[] weights;
  private final Integer[] order;
  private float lastLogProb;

  public TokenSampler(GenerationOptions options, int vocab) {
    long[] seeds = options.seeds();
    this.rngs = new SplittableRandom[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      rngs[i] = new SplittableRandom(seeds[i]);
    }
    this.temperature = options.temperature();
    this.topP = options.topP();
    this.vocab = vocab;
    this.weights = new double[vocab];
    this.order = topP < 1f ? new Integer[vocab] : null;
  }

  /** The log-probability of the token last returned by {@link #next}. */
  public float lastLogProb() {
    return lastLogProb;
  }

  /**
   * Samples the next token of sequence {@code row} from {@code logits[offset, offset + vocab)}.
   * Its log-probability under {@code softmax(logits / T)} (T = 1 when greedy) is then {@link
   * #lastLogProb()}.
   */
  public int next(int row, float[] logits, int offset) {
    double t = temperature == 0f ? 1.0 : temperature;
    double max = Double.NEGATIVE_INFINITY;
    int argmax = 0;
    for (int i = 0; i < vocab; i++) {
      double z = logits[offset + i] / t;
      if (z > max) {
        max = z;
        argmax = i;
      }
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      double w = Math.exp(logits[offset + i] / t - max);
      weights[i] = w;
      sum += w;
    }
    double logSum = Math.log(sum);
    int token;
    if (temperature == 0f) {
      token = argmax;
    } else if (order == null) {
      token = inverseCdf(rngs[row].nextDouble() * sum);
    } else {
      token = nucleus(rngs[row].nextDouble(), sum);
    }
    lastLogProb = (float) (logits[offset + token] / t - max - logSum);
    return token;
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
    return last; // rounding left u at the very top
  }

  /** Samples from the smallest most-likely set whose probability reaches topP. */
  private int nucleus(double uniform, double sum) {
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
    }
    // Most likely first; ties by id so the order is deterministic.
    java.util.Arrays.sort(
        order,
        (a, b) -> {
          int c = Double.compare(weights[b], weights[a]);
          return c != 0 ? c : Integer.compare(a, b);
        });
    double threshold = topP * sum;
    double kept = 0;
    int size = 0;
    while (size < vocab) {
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
    return order[size - 1];
  }
}
