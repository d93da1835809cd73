package io.perlspark.model.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDScope;
import io.perlspark.model.policy.Constants;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;

/**
 * Supervised fine-tuning loss: cross-entropy on response tokens only, token-mean with an explicit
 * normaliser (the unmasked token count of the whole mini-batch) so that gradient accumulation over
 * micro-batches equals one big batch.
 */
public final class SftLoss {
  private SftLoss() {}

  /**
   * Result of one micro-batch.
   *
   * @param loss scalar {@code −Σ_masked logp / normaliser}
   * @param tokens unmasked tokens of this micro-batch
   * @param nllSum the summed negative log-likelihood of those tokens
   */
  public record Output(NDArray loss, long tokens, double nllSum) {
    public boolean empty() {
      return tokens == 0;
    }

    /** Mean negative log-likelihood per token of this micro-batch; 0 when empty. */
    public double meanNll() {
      return tokens == 0 ? 0.0 : nllSum / tokens;
    }
  }

  /** Cross-entropy from logits [B, T, V] and target ids [B, T]. */
  public static Output fromLogits(NDArray logits, NDArray targets, NDArray mask, double normaliser) {
    // Closing the log-probs handle is safe: the autograd graph keeps its own reference.
    try (NDArray logp = TokenLogProbs.gather(logits, targets)) {
      return fromTokenLogProbs(logp, mask, normaliser);
    }
  }

  /**
   * Cross-entropy from the log-probs of the target tokens [B, T].
   *
   * @param mask 1 (or true) at response tokens [B, T]
   * @param normaliser the unmasked token count of the whole mini-batch (≥ this micro-batch's
   *     count); may be 0 only when this micro-batch is empty too
   */
  @SuppressWarnings("try") // the NDScope releases intermediates; its variable is unused
  public static Output fromTokenLogProbs(NDArray logp, NDArray mask, double normaliser) {
    Objects.requireNonNull(logp, "logp");
    Objects.requireNonNull(mask, "mask");
    if (logp.getShape().dimension() != 2) {
      throw new IllegalArgumentException("logp must be [B, T], got shape " + logp.getShape());
    }
    GrpoLoss.requireShape("mask", mask, logp.getShape());
    if (!Double.isFinite(normaliser) || normaliser < 0) {
      throw new IllegalArgumentException("normaliser must be a finite value >= 0, got " + normaliser);
    }
    try (NDScope scope = new NDScope()) {
      NDArray m = mask.getDataType() == DataType.BOOLEAN ? mask : mask.neq(0);
      long tokens = m.toType(DataType.INT64, false).sum().getLong();
      if (tokens > normaliser) {
        throw new IllegalArgumentException(
            "normaliser "
                + normaliser
                + " is smaller than this micro-batch's own token count "
                + tokens
                + "; pass the token count of the whole mini-batch");
      }
      NDArray nll = NDArrays.where(m, logp, logp.zerosLike()).sum().neg();
      NDArray loss = nll.div(Constants.scalar(nll, normaliser > 0 ? normaliser : 1.0));
      double nllSum = nll.stopGradient().toType(DataType.FLOAT64, false).getDouble();
      NDScope.unregister(loss);
      loss.attach(logp.getManager());
      return new Output(loss, tokens, nllSum);
    }
  }
}
