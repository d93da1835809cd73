package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Banned ids (vision specials, eos before min_new_tokens) are never drawn; log-probs unmasked. */
class Qwen25VlSamplerTest {
  private static final int VOCAB = 16;

  private static float[] logits(int favourite) {
    float[] z = new float[VOCAB];
    for (int i = 0; i < VOCAB; i++) {
      z[i] = i * 0.01f;
    }
    z[favourite] = 50f; // all the mass on one banned id
    return z;
  }

  @Test
  void greedyAndSampledDrawsSkipBannedIds() {
    int[] banned = {3, 4, 5};
    for (float temperature : new float[] {0f, 1f, 0.7f}) {
      for (float topP : new float[] {1f, 0.5f}) {
        Qwen25VlSampler sampler = new Qwen25VlSampler(new long[] {42}, temperature, topP, VOCAB);
        for (int draw = 0; draw < 200; draw++) {
          int token = sampler.next(0, logits(4), 0, banned);
          assertTrue(token < 3 || token > 5, "T=" + temperature + " p=" + topP + ": " + token);
        }
      }
    }
    Qwen25VlSampler greedy = new Qwen25VlSampler(new long[] {1}, 0f, 1f, VOCAB);
    assertEquals(15, greedy.next(0, logits(4), 0, banned)); // next best logit
    assertEquals(4, greedy.next(0, logits(4), 0, new int[0]));
  }

  @Test
  void logProbIsUnderTheUnmaskedDistribution() {
    float[] z = logits(4);
    Qwen25VlSampler greedy = new Qwen25VlSampler(new long[] {1}, 0f, 1f, VOCAB);
    int token = greedy.next(0, z, 0, new int[] {4});
    double max = 50;
    double sum = 0;
    for (float v : z) {
      sum += Math.exp(v - max);
    }
    assertEquals(z[token] - max - Math.log(sum), greedy.lastLogProb(), 1e-5);
    assertNotEquals(0f, greedy.lastLogProb());
  }

  @Test
  void eachRowHasItsOwnStream() {
    float[] flat = new float[VOCAB];
    Qwen25VlSampler two = new Qwen25VlSampler(new long[] {7, 8}, 1f, 1f, VOCAB);
    Qwen25VlSampler one = new Qwen25VlSampler(new long[] {8}, 1f, 1f, VOCAB);
    for (int i = 0; i < 50; i++) {
      two.next(0, flat, 0, new int[0]); // row 0's draws do not move row 1's stream
      assertEquals(one.next(0, flat, 0, new int[0]), two.next(1, flat, 0, new int[0]));
    }
  }
}
