package io.perlspark.model.train;

import java.io.Serializable;

/**
 * Statistics of an SFT gradient computation, as sums and counts so that micro-batches and
 * partitions merge exactly.
 *
 * @param loss this part's contribution to the normalised loss (summed over parts: the mini-batch
 *     loss, the mean negative log-likelihood per token when the normaliser is the token count)
 * @param tokens response tokens that took part
 * @param sequences sequences with at least one response token
 * @param nllSum summed negative log-likelihood of those tokens
 */
public record SftStats(double loss, long tokens, long sequences, double nllSum)
    implements Serializable {

  public static final SftStats EMPTY = new SftStats(0, 0, 0, 0);

  /** Sums two parts; associative and commutative, with {@link #EMPTY} as identity. */
  public SftStats merge(SftStats o) {
    return new SftStats(
        loss + o.loss, tokens + o.tokens, sequences + o.sequences, nllSum + o.nllSum);
  }

  /** Mean negative log-likelihood per token; 0 when empty. */
  public double meanNll() {
    return tokens == 0 ? 0.0 : nllSum / tokens;
  }

  public boolean empty() {
    return tokens == 0;
  }
}
