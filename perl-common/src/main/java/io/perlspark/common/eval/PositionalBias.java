package io.perlspark.common.eval;

import java.io.Serializable;
import java.util.List;

/**
 * Positional bias on the original order, over the samples whose answer is an image (an image
 * index or an option letter bound to an image, i.e. {@code answerPosition > 0}).
 *
 * @param samples such samples
 * @param byPosition accuracy by answer position, positions 1..max (a position without samples has
 *     a null accuracy)
 * @param namingImage1 predictions that name the first image
 * @param shareNamingImage1 {@code namingImage1 / samples}
 * @param chanceShareNamingImage1 the share a uniform guesser would get: mean of
 *     {@code 1 / imageCount} over the samples (0.36 for a balanced 2–4-image set)
 * @param accuracyAtPosition1 accuracy when the answer is the first image
 * @param accuracyAtOtherPositions accuracy over all samples whose answer is at position >= 2
 *     (pooled over samples)
 * @param biasGap {@code accuracyAtPosition1 - accuracyAtOtherPositions}
 * @param biasGapPositionMean {@code accuracyAtPosition1} minus the unweighted mean of the
 *     per-position accuracies at positions >= 2 that have samples (gives rare positions equal
 *     weight, so it is noisier)
 */
public record PositionalBias(
    long samples,
    List<PositionAccuracy> byPosition,
    long namingImage1,
    Double shareNamingImage1,
    Double chanceShareNamingImage1,
    Double accuracyAtPosition1,
    Double accuracyAtOtherPositions,
    Double biasGap,
    Double biasGapPositionMean)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final PositionalBias EMPTY =
      new PositionalBias(0, List.of(), 0, null, null, null, null, null, null);

  public PositionalBias {
    byPosition = byPosition == null ? List.of() : List.copyOf(byPosition);
  }

  /** The accuracy at a 1-based position, null when no sample had its answer there. */
  public Double accuracyAt(int position) {
    for (PositionAccuracy p : byPosition) {
      if (p.position() == position) {
        return p.accuracy();
      }
    }
    return null;
  }
}
