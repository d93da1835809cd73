package io.perlspark.model.loss;

import java.io.Serializable;

/**
 * Statistics of one loss computation, kept as sums and counts so that micro-batches, executors and
 * mini-batches merge exactly ({@link #merge}); the means are derived.
 *
 * @param loss this part's contribution to the normalised loss (the value of the loss scalar); the
 *     merged value over all micro-batches of a mini-batch is the mini-batch loss
 * @param tokens unmasked response tokens
 * @param sequences sequences with at least one unmasked token
 * @param pgLossSum sum of the per-token policy-gradient loss over unmasked tokens
 * @param klSum sum of the per-token KL estimate over unmasked tokens (0 when no KL is computed)
 * @param clipCount unmasked tokens where the ratio clip is active
 * @param dualClipCount unmasked tokens where the dual clip is active
 * @param ratioSum sum of the importance ratio over unmasked tokens
 */
public record LossStats(
    double loss,
    long tokens,
    long sequences,
    double pgLossSum,
    double klSum,
    long clipCount,
    long dualClipCount,
    double ratioSum)
    implements Serializable {

  public static final LossStats EMPTY = new LossStats(0, 0, 0, 0, 0, 0, 0, 0);

  /** True when no response token took part (the loss is 0 and carries no signal). */
  public boolean empty() {
    return tokens == 0;
  }

  /** Token mean of the policy-gradient loss; 0 when empty. */
  public double pgLoss() {
    return perToken(pgLossSum);
  }

  /** Token mean of the KL estimate; 0 when empty. */
  public double kl() {
    return perToken(klSum);
  }

  /** Share of tokens where the ratio clip is active. */
  public double clipFraction() {
    return perToken(clipCount);
  }

  /** Share of tokens where the dual clip is active. */
  public double dualClipFraction() {
    return perToken(dualClipCount);
  }

  /** Token mean of the importance ratio. */
  public double ratioMean() {
    return perToken(ratioSum);
  }

  /** Sums two parts; associative and commutative, with {@link #EMPTY} as identity. */
  public LossStats merge(LossStats o) {
    return new LossStats(
        loss + o.loss,
        tokens + o.tokens,
        sequences + o.sequences,
        pgLossSum + o.pgLossSum,
        klSum + o.klSum,
        clipCount + o.clipCount,
        dualClipCount + o.dualClipCount,
        ratioSum + o.ratioSum);
  }

  private double perToken(double sum) {
    return tokens == 0 ? 0.0 : sum / tokens;
  }
}
