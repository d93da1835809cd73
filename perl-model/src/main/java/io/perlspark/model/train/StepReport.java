package io.perlspark.model.train;

import java.io.Serializable;

/**
 * What one {@link DriverOptimizer#step} did.
 *
 * @param step 0-based index of this step (the schedule's step; skipped steps count too)
 * @param lr the scheduled learning rate of this step (not applied when skipped)
 * @param gradNorm global L2 norm of the summed gradient before clipping (NaN or ∞ when skipped)
 * @param clipped whether clipping scaled the gradient down
 * @param skipped whether the update was skipped because the gradient norm was not finite; the
 *     parameters and the optimizer moments are then unchanged
 * @param updates AdamW updates applied so far, this one included
 */
public record StepReport(
    long step, double lr, double gradNorm, boolean clipped, boolean skipped, long updates)
    implements Serializable {}
