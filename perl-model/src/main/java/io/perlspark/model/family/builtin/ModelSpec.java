package io.perlspark.model.family.builtin;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Sizes of a {@link TinyVlm}.
 *
 * @param vocabSize number of token ids (must equal the tokenizer's)
 * @param imageSize images are {@code imageSize x imageSize} pixels
 * @param patchSize square patches of {@code patchSize} pixels; must divide {@code imageSize}
 * @param channels colour channels of an image (3 for RGB, 1 for grey)
 * @param dModel width of the decoder
 * @param layers number of decoder layers
 * @param heads attention heads; must divide {@code dModel}
 * @param ffnMult the feed-forward hidden width is {@code ffnMult * dModel}
 * @param maxSeqLen the longest interleaved sequence (bos + prompt with image patches + response)
 * @param tiedHead whether the output head reuses the token embedding matrix
 */
public record ModelSpec(
    int vocabSize,
    int imageSize,
    int patchSize,
    int channels,
    int dModel,
    int layers,
    int heads,
    int ffnMult,
    int maxSeqLen,
    boolean tiedHead)
    implements Serializable {

  public ModelSpec {
    List<String> errors = new ArrayList<>();
    positive(errors, "vocabSize", vocabSize);
    positive(errors, "imageSize", imageSize);
    positive(errors, "patchSize", patchSize);
    positive(errors, "channels", channels);
    positive(errors, "dModel", dModel);
    positive(errors, "layers", layers);
    positive(errors, "heads", heads);
    positive(errors, "ffnMult", ffnMult);
    positive(errors, "maxSeqLen", maxSeqLen);
    if (vocabSize > 0 && vocabSize < 5) {
      errors.add(
          "vocabSize=" + vocabSize + " is too small: pad, bos, eos, unk and <image> need 5 ids");
    }
    if (imageSize > 0 && patchSize > 0 && imageSize % patchSize != 0) {
      errors.add(
          "patchSize=" + patchSize + " must divide imageSize=" + imageSize + " (e.g. 24 with 8)");
    }
    if (dModel > 0 && heads > 0 && dModel % heads != 0) {
      errors.add("heads=" + heads + " must divide dModel=" + dModel);
    }
    if (maxSeqLen > 0 && maxSeqLen < 2) {
      errors.add("maxSeqLen=" + maxSeqLen + " must be at least 2 (bos and one token)");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid model spec: " + String.join("; ", errors));
    }
  }

  /** An untied-head spec. */
  public ModelSpec(
      int vocabSize,
      int imageSize,
      int patchSize,
      int channels,
      int dModel,
      int layers,
      int heads,
      int ffnMult,
      int maxSeqLen) {
    this(
        vocabSize, imageSize, patchSize, channels, dModel, layers, heads, ffnMult, maxSeqLen,
        false);
  }

  /**
   * The sizes that worked in the calibration prototype (shared/CALIBRATION.md): 24x24 RGB images,
   * 8x8 patches (9 per image), d=64, 2 layers, 4 heads, FFN 4x, sequences up to 80 tokens, untied
   * head; about 122k parameters with a 40-id vocabulary.
   */
  public static ModelSpec calibration(int vocabSize) {
    return new ModelSpec(vocabSize, 24, 8, 3, 64, 2, 4, 4, 80, false);
  }

  public ModelSpec withVocabSize(int newVocabSize) {
    return new ModelSpec(
        newVocabSize, imageSize, patchSize, channels, dModel, layers, heads, ffnMult, maxSeqLen,
        tiedHead);
  }

  public ModelSpec withMaxSeqLen(int newMaxSeqLen) {
    return new ModelSpec(
        vocabSize, imageSize, patchSize, channels, dModel, layers, heads, ffnMult, newMaxSeqLen,
        tiedHead);
  }

  public ModelSpec withTiedHead(boolean tied) {
    return new ModelSpec(
        vocabSize, imageSize, patchSize, channels, dModel, layers, heads, ffnMult, maxSeqLen, tied);
  }

  /** Patches along one side of an image. */
  public int patchesPerSide() {
    return imageSize / patchSize;
  }

  /** Sequence positions one image occupies. */
  public int patchesPerImage() {
    return patchesPerSide() * patchesPerSide();
  }

  /** Inputs of the patch projection: {@code channels * patchSize^2}. */
  public int patchDim() {
    return channels * patchSize * patchSize;
  }

  /** Floats of one image in CHW layout. */
  public int pixelsPerImage() {
    return channels * imageSize * imageSize;
  }

  public int headDim() {
    return dModel / heads;
  }

  public int ffnDim() {
    return ffnMult * dModel;
  }

  /** The number of trainable scalars of a {@link TinyVlm} with these sizes. */
  public long parameterCount() {
    long d = dModel;
    long patch = patchDim() * d + d + (long) patchesPerImage() * d;
    long embeddings = (long) vocabSize * d + (long) maxSeqLen * d;
    long perLayer =
        4 * d // two layer norms
            + 3 * d * d + 3 * d // qkv
            + d * d + d // attention output
            + d * ffnDim() + ffnDim() // ffn in
            + ffnDim() * d + d; // ffn out
    long head = 2 * d + (tiedHead ? 0 : (long) vocabSize * d);
    return patch + embeddings + layers * perLayer + head;
  }

  private static void positive(List<String> errors, String name, int value) {
    if (value <= 0) {
      errors.add(name + "=" + value + " must be > 0");
    }
  }
}
