package io.perlspark.model.policy;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Generation and scoring of many sequences in calls of at most a configured number of sequences
 * (the batch sizes of {@code rollout.generationBatch} / {@code rollout.scoringBatch}). Sequence i
 * keeps seed i whatever call it lands in, so the split changes speed and memory, not the tokens.
 */
public final class BatchedCalls {
  private BatchedCalls() {}

  /** {@link PolicyModel#generate} over {@code inputs} in calls of at most {@code batch} sequences. */
  public static GenerationResult generate(PolicyModel model, List<PolicyInput> inputs,
      GenerationOptions options, int batch) {
    Objects.requireNonNull(inputs, "inputs");
    requirePositive(batch);
    int total = inputs.size();
    if (options.seeds().length != total) {
      throw new IllegalArgumentException(
          total + " prompts but " + options.seeds().length + " seeds; need one each");
    }
    if (total <= batch) {
      return model.generate(inputs, options);
    }
    int[][] tokens = new int[total][];
    float[][] logProbs = new float[total][];
    boolean[] finished = new boolean[total];
    for (int start = 0; start < total; start += batch) {
      int end = Math.min(total, start + batch);
      GenerationResult part = model.generate(inputs.subList(start, end),
          options.withSeeds(Arrays.copyOfRange(options.seeds(), start, end)));
      System.arraycopy(part.tokens(), 0, tokens, start, end - start);
      System.arraycopy(part.logProbs(), 0, logProbs, start, end - start);
      System.arraycopy(part.finished(), 0, finished, start, end - start);
    }
    return new GenerationResult(tokens, logProbs, finished);
  }

  /** {@link PolicyModel#score} in calls of at most {@code batch} sequences. */
  public static TokenScores score(PolicyModel model, List<PolicyInput> inputs, int[][] responses,
      float temperature, boolean withEntropy, int batch) {
    Objects.requireNonNull(inputs, "inputs");
    requirePositive(batch);
    int total = inputs.size();
    if (total <= batch) {
      return model.score(inputs, responses, temperature, withEntropy);
    }
    float[][] logProbs = new float[total][];
    float[][] entropies = withEntropy ? new float[total][] : null;
    for (int start = 0; start < total; start += batch) {
      int end = Math.min(total, start + batch);
      TokenScores part = model.score(inputs.subList(start, end),
          Arrays.copyOfRange(responses, start, end), temperature, withEntropy);
      System.arraycopy(part.logProbs(), 0, logProbs, start, end - start);
      if (withEntropy) {
        System.arraycopy(part.entropies(), 0, entropies, start, end - start);
      }
    }
    return new TokenScores(logProbs, entropies);
  }

  private static void requirePositive(int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch=" + batch + " must be >= 1 sequences per call");
    }
  }
}
