package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;

/**
 * The differentiable per-token outputs for a {@link PackedBatch}, both {@code [B, T]}: padded
 * positions hold finite, meaningless values (multiply by {@link PackedBatch#responseMask}).
 *
 * @param logProbs log-probability of each response token under {@code softmax(logits /
 *     temperature)}
 * @param entropies entropy of the next-token distribution at each response token; null when not
 *     requested
 */
public record ResponseTensors(NDArray logProbs, NDArray entropies) {}
