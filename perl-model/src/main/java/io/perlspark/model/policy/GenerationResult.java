package io.perlspark.model.policy;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Generated responses.
 *
 * @param tokens per prompt, the generated token ids; when the model produced eos, eos is the last
 *     token (and is scored like any other token: the policy chose to stop)
 * @param logProbs per generated token, its log-probability under {@code softmax(logits /
 *     temperature)} over the whole vocabulary (before top-p truncation); for greedy decoding under
 *     {@code softmax(logits)} (temperature 1)
 * @param finished whether generation stopped at eos (false: cut at maxNewTokens or maxSeqLen, or
 *     {@link GenerationOptions#ignoreEos()} was set)
 */
public record GenerationResult(int[][] tokens, float[][] logProbs, boolean[] finished)
    implements Serializable {

  public GenerationResult {
    if (tokens.length != logProbs.length || tokens.length != finished.length) {
      throw new IllegalArgumentException(
          "tokens, logProbs and finished must have one entry per prompt: "
              + tokens.length + ", " + logProbs.length + ", " + finished.length);
    }
  }

  public int size() {
    return tokens.length;
  }

  /** Response {@code i} without its final eos (for decoding to text). */
  public int[] withoutEos(int i) {
    return finished[i] ? Arrays.copyOf(tokens[i], tokens[i].length - 1) : tokens[i].clone();
  }

  /** All generated tokens, eos included. */
  public long totalTokens() {
    long n = 0;
    for (int[] t : tokens) {
      n += t.length;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationResult other
        && Arrays.deepEquals(tokens, other.tokens)
        && Arrays.deepEquals(logProbs, other.logProbs)
        && Arrays.equals(finished, other.finished);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(tokens) * 31 + Arrays.hashCode(finished);
  }

  @Override
  public String toString() {
    return "GenerationResult(" + tokens.length + " responses, " + totalTokens() + " tokens)";
  }
}
