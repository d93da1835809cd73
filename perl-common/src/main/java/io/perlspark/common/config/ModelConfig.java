package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;

/**
 * The policy model: the built-in tiny vision-language model (patch encoder + causal decoder).
 *
 * @param type model family; only {@code tiny-vlm} exists
 * @param imageSize square image side in pixels (images are resized to it)
 * @param patchSize square patch side; must divide imageSize
 * @param channels image channels (3 = RGB)
 * @param dModel hidden width; heads must divide it
 * @param layers decoder layers
 * @param heads attention heads
 * @param ffnMult feed-forward width as a multiple of dModel
 * @param maxSeqLen longest sequence (image tokens + prompt + response) the model accepts
 * @param init checkpoint to start from (e.g. the SFT warm start); null = fresh initialisation
 * @param tokenizer {@code builtin} or the path of a Hugging Face tokenizer.json
 * @param device {@code auto} (GPU when one is assigned, else CPU), {@code cpu} or {@code gpu}
 */
public record ModelConfig(
    String type,
    int imageSize,
    int patchSize,
    int channels,
    int dModel,
    int layers,
    int heads,
    int ffnMult,
    int maxSeqLen,
    String init,
    String tokenizer,
    String device)
    implements Serializable {

  public static final List<String> TYPES = Checks.list("tiny-vlm");
  public static final List<String> DEVICES = Checks.list("auto", "cpu", "gpu");

  public static ModelConfig defaults() {
    return new ModelConfig("tiny-vlm", 24, 8, 3, 64, 2, 4, 4, 128, null, "builtin", "auto");
  }

  /** Image tokens per image: (imageSize / patchSize)^2. */
  public int patchesPerImage() {
    int side = imageSize / patchSize;
    return side * side;
  }

  void check(Checks c, String path) {
    c.oneOf(Checks.join(path, "type"), type, TYPES);
    c.atLeast(Checks.join(path, "imageSize"), imageSize, 1);
    c.atLeast(Checks.join(path, "patchSize"), patchSize, 1);
    if (imageSize >= 1) {
      c.divides(
          Checks.join(path, "patchSize"), patchSize, Checks.join(path, "imageSize"), imageSize);
    }
    c.atLeast(Checks.join(path, "channels"), channels, 1);
    c.atLeast(Checks.join(path, "dModel"), dModel, 1);
    c.atLeast(Checks.join(path, "layers"), layers, 1);
    c.atLeast(Checks.join(path, "heads"), heads, 1);
    if (dModel >= 1) {
      c.divides(Checks.join(path, "heads"), heads, Checks.join(path, "dModel"), dModel);
    }
    c.atLeast(Checks.join(path, "ffnMult"), ffnMult, 1);
    c.atLeast(Checks.join(path, "maxSeqLen"), maxSeqLen, 1);
    if (init != null && init.isBlank()) {
      c.notAllowed(Checks.join(path, "init"), init, "must be a checkpoint path or null");
    }
    c.notBlank(Checks.join(path, "tokenizer"), tokenizer);
    c.oneOf(Checks.join(path, "device"), device, DEVICES);
  }
}
