package io.perlspark.model.policy;

import java.io.Serializable;

/**
 * Per-token scores of given responses (no gradient).
 *
 * @param logProbs per response, the log-probability of each of its tokens under {@code
 *     softmax(logits / temperature)}
 * @param entropies per response, the entropy (nats) of the next-token distribution at each of its
 *     tokens; null when not requested
 */
public record TokenScores(float[][] logProbs, float[][] entropies) implements Serializable {}
