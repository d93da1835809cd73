package io.perlspark.model.family.builtin;

import io.perlspark.model.policy.PolicyInput;
import java.util.List;

/**
 * Building blocks for the interleaved sequences: validation, image patches, and the row indices
 * into the embedding table.
 *
 * <p>The embedding table of a forward pass is {@code concat(patch embeddings of all N images of
 * the batch, token embeddings)}: rows {@code [0, N*P)} are image patches (image {@code k}'s patch
 * {@code j} is row {@code k*P + j}), row {@code N*P + id} is token {@code id}. One lookup then
 * builds the whole interleaved input and the gradient reaches both embeddings.
 */
final class Sequences {
  private Sequences() {}

  /** Checks one prompt against the model; names the row and the problem. */
  static void checkPrompt(int row, PolicyInput p, ModelSpec spec, int imageId) {
    if (p.hasImageGrids()) {
      throw new IllegalArgumentException(
          "prompt " + row + " carries image grids, but the built-in model takes fixed-size images"
              + " (" + spec.imageSize() + "x" + spec.imageSize() + "); was it made by another"
              + " family's prompt processor?");
    }
    int[] tokens = p.promptTokens();
    int placeholders = 0;
    for (int i = 0; i < tokens.length; i++) {
      int t = tokens[i];
      if (t < 0 || t >= spec.vocabSize()) {
        throw new IllegalArgumentException(
            "prompt " + row + ": token " + i + " has id " + t + ", outside the vocabulary [0, "
                + spec.vocabSize() + ")");
      }
      if (t == imageId) {
        placeholders++;
      }
    }
    if (placeholders != p.images().length) {
      throw new IllegalArgumentException(
          "prompt " + row + " has " + placeholders + " <image> placeholders but "
              + p.images().length + " images; they must match one to one");
    }
    for (int k = 0; k < p.images().length; k++) {
      float[] img = p.images()[k];
      if (img.length != spec.pixelsPerImage()) {
        throw new IllegalArgumentException(
            "prompt " + row + ", image " + k + " has " + img.length + " floats but the model takes "
                + spec.channels() + "x" + spec.imageSize() + "x" + spec.imageSize() + " = "
                + spec.pixelsPerImage() + " (CHW; see ImagePixels.decode)");
      }
    }
  }

  static void checkResponse(int row, int[] response, ModelSpec spec) {
    for (int i = 0; i < response.length; i++) {
      int t = response[i];
      if (t < 0 || t >= spec.vocabSize()) {
        throw new IllegalArgumentException(
            "response " + row + ": token " + i + " has id " + t + ", outside the vocabulary [0, "
                + spec.vocabSize() + ")");
      }
    }
  }

  /** Sequence positions a prompt takes: bos, its text tokens, and P per image. */
  static int promptLength(PolicyInput p, ModelSpec spec) {
    int images = p.images().length;
    return 1 + p.promptTokens().length - images + images * spec.patchesPerImage();
  }

  static int totalImages(List<PolicyInput> prompts) {
    int n = 0;
    for (PolicyInput p : prompts) {
      n += p.images().length;
    }
    return n;
  }

  /** Patches of all images of the batch, in prompt order: {@code [N*P, patchDim]} row-major. */
  static float[] patches(List<PolicyInput> prompts, ModelSpec spec) {
    int rowsPerImage = spec.patchesPerImage();
    int dim = spec.patchDim();
    float[] out = new float[totalImages(prompts) * rowsPerImage * dim];
    int image = 0;
    for (PolicyInput p : prompts) {
      for (float[] chw : p.images()) {
        patchify(chw, spec, out, image * rowsPerImage * dim);
        image++;
      }
    }
    return out;
  }

  /**
   * Cuts a CHW image into patches in raster order (patch row, then column); within a patch the
   * order is channel, pixel row, pixel column.
   */
  static void patchify(float[] chw, ModelSpec spec, float[] out, int offset) {
    int s = spec.imageSize();
    int ps = spec.patchSize();
    int side = spec.patchesPerSide();
    int c = spec.channels();
    int o = offset;
    for (int gy = 0; gy < side; gy++) {
      for (int gx = 0; gx < side; gx++) {
        for (int ch = 0; ch < c; ch++) {
          for (int py = 0; py < ps; py++) {
            int src = ch * s * s + (gy * ps + py) * s + gx * ps;
            System.arraycopy(chw, src, out, o, ps);
            o += ps;
          }
        }
      }
    }
  }

  /**
   * Writes bos and the prompt (images expanded to patch rows) as embedding-table rows.
   *
   * @param firstImage global index of this prompt's first image within the batch
   * @param tokenOffset row of token 0 in the table ({@code N*P})
   * @return the next free column
   */
  static int writePrompt(
      PolicyInput p,
      long[] rows,
      int at,
      int firstImage,
      ModelSpec spec,
      long tokenOffset,
      int bosId,
      int imageId) {
    int col = at;
    int patchesPerImage = spec.patchesPerImage();
    rows[col++] = tokenOffset + bosId;
    int image = firstImage;
    for (int t : p.promptTokens()) {
      if (t == imageId) {
        long base = (long) image * patchesPerImage;
        for (int j = 0; j < patchesPerImage; j++) {
          rows[col++] = base + j;
        }
        image++;
      } else {
        rows[col++] = tokenOffset + t;
      }
    }
    return col;
  }
}
