package io.perlspark.jobs.train;

import io.perlspark.common.permute.PermutationEligibility;
import java.io.Serializable;

/**
 * Whether a stage's prompt can be permuted, as an executor found it (a task result: registered with
 * Kryo, so it travels under spark.kryo.registrationRequired), and the stage data's partition holding it.
 */
public record PromptVerdict(String id, int images, PermutationEligibility.Verdict verdict, int partition)
    implements Serializable {}
