package io.perlspark.model.family.builtin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Prompts and responses packed for one forward pass of {@link TinyVlm}'s training path.
 *
 * <p>Sequence {@code b} is {@code [bos, prompt with each <image> replaced by that image's P patch
 * positions, response]}, right-padded to the batch's longest sequence {@code L}; positions count
 * from 0 in every row. The response axis {@code T} is the longest response; the mask is 1 on real
 * response tokens and 0 on padding. Plain arrays only, so a batch is cheap to build and can travel
 * between JVMs; NDArrays are made from it by the model.
 */
public final class TinyVlmBatch implements PackedBatch {
  private static final long serialVersionUID = 1L;

  private final ModelSpec spec;
  private final int batchSize;
  private final int sequenceLength;
  private final int responseLength;
  private final int imageCount;
  private final long[] tableRows;
  private final long[] positions;
  private final float[] patches;
  private final long[] outputRows;
  private final long[] targets;
  private final float[] mask;
  private final int[] promptLengths;
  private final int[] responseLengths;

  private TinyVlmBatch(
      ModelSpec spec,
      int batchSize,
      int sequenceLength,
      int responseLength,
      int imageCount,
      long[] tableRows,
      long[] positions,
      float[] patches,
      long[] outputRows,
      long[] targets,
      float[] mask,
      int[] promptLengths,
      int[] responseLengths) {
    this.spec = spec;
    this.batchSize = batchSize;
    this.sequenceLength = sequenceLength;
    this.responseLength = responseLength;
    this.imageCount = imageCount;
    this.tableRows = tableRows;
    this.positions = positions;
    this.patches = patches;
    this.outputRows = outputRows;
    this.targets = targets;
    this.mask = mask;
    this.promptLengths = promptLengths;
    this.responseLengths = responseLengths;
  }

  /**
   * Packs prompts and their responses.
   *
   * @param responses {@code responses[b]} are the response tokens of prompt {@code b} (eos
   *     included when generated); may be empty
   * @param spec the model's sizes (image patches, vocabulary, maximum length)
   */
  public static TinyVlmBatch pack(
      List<PolicyInput> prompts, int[][] responses, TextTokenizer tokenizer, ModelSpec spec) {
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(responses, "responses");
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(spec, "spec");
    int b = prompts.size();
    if (b == 0) {
      throw new IllegalArgumentException("cannot pack an empty batch (no prompts)");
    }
    if (responses.length != b) {
      throw new IllegalArgumentException(
          "got " + b + " prompts but " + responses.length + " responses; need one each");
    }
    int[] promptLengths = new int[b];
    int[] responseLengths = new int[b];
    int longest = 0;
    int longestResponse = 1;
    for (int i = 0; i < b; i++) {
      PolicyInput p = Objects.requireNonNull(prompts.get(i), "prompt " + i);
      int[] r = Objects.requireNonNull(responses[i], "response " + i);
      Sequences.checkPrompt(i, p, spec, tokenizer.imageId());
      Sequences.checkResponse(i, r, spec);
      promptLengths[i] = Sequences.promptLength(p, spec);
      responseLengths[i] = r.length;
      int total = promptLengths[i] + r.length;
      if (total > spec.maxSeqLen()) {
        throw new IllegalArgumentException(
            "row " + i + ": bos + prompt (" + promptLengths[i] + " positions, images included) + "
                + "response (" + r.length + " tokens) = " + total + " exceeds maxSeqLen="
                + spec.maxSeqLen());
      }
      longest = Math.max(longest, total);
      longestResponse = Math.max(longestResponse, r.length);
    }
    int length = longest;
    int t = longestResponse;
    int images = Sequences.totalImages(prompts);
    long tokenOffset = (long) images * spec.patchesPerImage();
    long[] rows = new long[b * length];
    long[] positions = new long[b * length];
    long[] outputRows = new long[b * t];
    long[] targets = new long[b * t];
    float[] mask = new float[b * t];
    Arrays.fill(rows, tokenOffset + tokenizer.padId());
    Arrays.fill(targets, tokenizer.padId());
    int firstImage = 0;
    for (int i = 0; i < b; i++) {
      PolicyInput p = prompts.get(i);
      int base = i * length;
      int col =
          Sequences.writePrompt(
              p, rows, base, firstImage, spec, tokenOffset, tokenizer.bosId(), tokenizer.imageId());
      firstImage += p.images().length;
      for (int token : responses[i]) {
        rows[col++] = tokenOffset + token;
      }
      for (int c = 0; c < length; c++) {
        positions[base + c] = c;
      }
      for (int k = 0; k < t; k++) {
        int at = i * t + k;
        if (k < responses[i].length) {
          // The output at position (promptLength - 1 + k) predicts response token k.
          outputRows[at] = base + promptLengths[i] - 1 + k;
          targets[at] = responses[i][k];
          mask[at] = 1f;
        } else {
          outputRows[at] = base;
        }
      }
    }
    return new TinyVlmBatch(
        spec,
        b,
        length,
        t,
        images,
        rows,
        positions,
        Sequences.patches(prompts, spec),
        outputRows,
        targets,
        mask,
        promptLengths,
        responseLengths);
  }

  @Override
  public NDArray responseMask(NDManager manager) {
    return manager.create(mask, new Shape(batchSize, responseLength));
  }

  /** The response tokens, {@code [B, T]} int64, padded with the pad id. */
  public NDArray targets(NDManager manager) {
    return manager.create(targets, new Shape(batchSize, responseLength));
  }

  public ModelSpec spec() {
    return spec;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  /** {@code L}: the padded length of the interleaved sequences. */
  public int sequenceLength() {
    return sequenceLength;
  }

  @Override
  public int responseLength() {
    return responseLength;
  }

  public int imageCount() {
    return imageCount;
  }

  @Override
  public int[] responseLengths() {
    return responseLengths.clone();
  }

  /** Sequence positions of each prompt: bos, text tokens and image patches. */
  public int[] promptLengths() {
    return promptLengths.clone();
  }

  long[] tableRows() {
    return tableRows;
  }

  long[] positions() {
    return positions;
  }

  float[] patches() {
    return patches;
  }

  long[] outputRows() {
    return outputRows;
  }

  long[] targetArray() {
    return targets;
  }
}
