package io.perlspark.model.family.qwen25vl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Qwen2.5-VL's image preprocessing, matching Hugging Face's {@code Qwen2VLImageProcessor} with the
 * PIL backend: smart-resize to multiples of {@code patch*merge} (28) within [minPixels,
 * maxPixels], Pillow bicubic resize on uint8, rescale by 1/255 and CLIP-normalise in float32, the
 * frame repeated {@code temporalPatchSize} times, and patches flattened in the model's order.
 *
 * <p>Output layout per image, for grid {@code (t, gh, gw)}: {@code t*gh*gw} rows of {@code
 * C*T*patch*patch} (3*2*14*14 = 1176) floats. Rows run over {@code (t, gh/merge, gw/merge, merge,
 * merge)}, i.e. each 2x2 block of patches that the merger later fuses into one token is
 * contiguous; columns run over {@code (C, T, py, px)}.
 *
 * <p>Immutable and thread-safe.
 */
public final class Qwen25VlImageProcessor {
  /** Hugging Face's smart_resize defaults, used when preprocessor_config.json says nothing. */
  public static final int DEFAULT_MIN_PIXELS = 56 * 56;

  public static final int DEFAULT_MAX_PIXELS = 28 * 28 * 1280;
  static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};
  /** smart_resize refuses more extreme aspect ratios (as Hugging Face does). */
  static final int MAX_ASPECT_RATIO = 200;

  private final int minPixels;
  private final int maxPixels;
  private final int patchSize;
  private final int temporalPatchSize;
  private final int mergeSize;
  private final float[] mean;
  private final float[] std;

  /** One preprocessed image: {@code pixelValues.length == patches() * patchDim()}. */
  public record Image(float[] pixelValues, int[] grid, int patchDim) {
    /** Number of patch rows ({@code t*h*w}). */
    public int patches() {
      return grid[0] * grid[1] * grid[2];
    }

    /** Number of {@code <|image_pad|>} tokens this image occupies in the prompt. */
    public int tokens(int mergeSize) {
      return patches() / (mergeSize * mergeSize);
    }
  }

  public Qwen25VlImageProcessor(
      int minPixels, int maxPixels, int patchSize, int temporalPatchSize, int mergeSize,
      float[] mean, float[] std) {
    if (patchSize <= 0 || temporalPatchSize <= 0 || mergeSize <= 0) {
      throw new IllegalArgumentException(
          "patch_size, temporal_patch_size and merge_size must be positive; got " + patchSize
              + ", " + temporalPatchSize + ", " + mergeSize);
    }
    if (minPixels <= 0 || maxPixels < minPixels) {
      throw new IllegalArgumentException(
          "need 0 < min_pixels <= max_pixels; got min_pixels " + minPixels + ", max_pixels "
              + maxPixels);
    }
    if (mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException("image_mean and image_std need 3 values (RGB)");
    }
    this.minPixels = minPixels;
    this.maxPixels = maxPixels;
    this.patchSize = patchSize;
    this.temporalPatchSize = temporalPatchSize;
    this.mergeSize = mergeSize;
    this.mean = mean.clone();
    this.std = std.clone();
  }

  /** The processor with Hugging Face's smart_resize defaults and CLIP mean/std. */
  public static Qwen25VlImageProcessor defaults() {
    return new Qwen25VlImageProcessor(
        DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS, 14, 2, 2, CLIP_MEAN, CLIP_STD);
  }

  /** Reads a {@code preprocessor_config.json}. */
  public static Qwen25VlImageProcessor fromConfig(Path preprocessorConfig) {
    try {
      return fromJson(new ObjectMapper().readTree(preprocessorConfig.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + preprocessorConfig, e);
    }
  }

  /**
   * From the JSON of a {@code preprocessor_config.json}: {@code min_pixels}/{@code max_pixels}, or
   * else {@code size.shortest_edge}/{@code size.longest_edge} (newer configs), else the defaults.
   */
  public static Qwen25VlImageProcessor fromJson(JsonNode config) {
    JsonNode size = config.path("size");
    int min = config.has("min_pixels") ? config.get("min_pixels").asInt()
        : size.path("shortest_edge").asInt(DEFAULT_MIN_PIXELS);
    int max = config.has("max_pixels") ? config.get("max_pixels").asInt()
        : size.path("longest_edge").asInt(DEFAULT_MAX_PIXELS);
    return new Qwen25VlImageProcessor(
        min, max,
        config.path("patch_size").asInt(14),
        config.path("temporal_patch_size").asInt(2),
        config.path("merge_size").asInt(2),
        floats(config.get("image_mean"), CLIP_MEAN),
        floats(config.get("image_std"), CLIP_STD));
  }

  private static float[] floats(JsonNode node, float[] fallback) {
    if (node == null || !node.isArray()) {
      return fallback;
    }
    float[] out = new float[node.size()];
    for (int i = 0; i < out.length; i++) {
      // HF holds them as Python floats and numpy casts to float32: the same rounding.
      out[i] = (float) node.get(i).asDouble();
    }
    return out;
  }

  /** A copy with other pixel bounds (PeRL's reference run uses max_pixels 262144). */
  public Qwen25VlImageProcessor withPixels(int minPixels, int maxPixels) {
    return new Qwen25VlImageProcessor(
        minPixels, maxPixels, patchSize, temporalPatchSize, mergeSize, mean, std);
  }

  public int minPixels() {
    return minPixels;
  }

  public int maxPixels() {
    return maxPixels;
  }

  public int patchSize() {
    return patchSize;
  }

  public int temporalPatchSize() {
    return temporalPatchSize;
  }

  public int mergeSize() {
    return mergeSize;
  }

  /** Per-channel (RGB) normalisation mean. */
  public float[] mean() {
    return mean.clone();
  }

  /** Per-channel (RGB) normalisation standard deviation. */
  public float[] std() {
    return std.clone();
  }

  /** Floats per patch row: {@code 3 * temporalPatchSize * patchSize^2}. */
  public int patchDim() {
    return 3 * temporalPatchSize * patchSize * patchSize;
  }

  /**
   * Hugging Face's {@code smart_resize}: the target {@code {height, width}}, multiples of {@code
   * patch*merge}, close to the input's aspect ratio, with a pixel count in [minPixels, maxPixels].
   * Rounding is Python's {@code round} (half to even: 70/28 = 2.5 gives 2), hence {@link Math#rint}.
   */
  public int[] smartResize(int height, int width) {
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("image size " + width + "x" + height + " is empty");
    }
    if ((double) Math.max(height, width) / Math.min(height, width) > MAX_ASPECT_RATIO) {
      throw new IllegalArgumentException(
          "image " + width + "x" + height + " has an aspect ratio over " + MAX_ASPECT_RATIO);
    }
    int factor = patchSize * mergeSize;
    long hBar = (long) Math.rint((double) height / factor) * factor;
    long wBar = (long) Math.rint((double) width / factor) * factor;
    if (hBar * wBar > maxPixels) {
      double beta = Math.sqrt((double) height * width / maxPixels);
      hBar = Math.max(factor, (long) Math.floor(height / beta / factor) * factor);
      wBar = Math.max(factor, (long) Math.floor(width / beta / factor) * factor);
    } else if (hBar * wBar < minPixels) {
      double beta = Math.sqrt((double) minPixels / ((double) height * width));
      hBar = (long) Math.ceil(height * beta / factor) * factor;
      wBar = (long) Math.ceil(width * beta / factor) * factor;
    }
    return new int[] {Math.toIntExact(hBar), Math.toIntExact(wBar)};
  }

  /** The image at its smart-resize size (Pillow bicubic; the same image if no resize is needed). */
  public RgbImage resize(RgbImage image) {
    int[] hw = smartResize(image.height(), image.width());
    if (hw[0] == image.height() && hw[1] == image.width()) {
      return image;
    }
    return new RgbImage(
        hw[1], hw[0],
        PilBicubic.resizeRgb(image.hwc(), image.width(), image.height(), hw[1], hw[0]));
  }

  /** Decodes and preprocesses one encoded image; {@code what} names it in errors. */
  public Image process(byte[] encoded, String what) {
    return process(RgbImage.decode(encoded, what));
  }

  public Image process(RgbImage image) {
    RgbImage r = resize(image);
    int h = r.height();
    int w = r.width();
    byte[] px = r.hwc();
    // Rescale in double (HF multiplies by 1/255 on float64), then normalise in float32.
    float[] chw = new float[3 * h * w];
    int plane = h * w;
    for (int i = 0; i < plane; i++) {
      for (int c = 0; c < 3; c++) {
        float x = (float) ((px[i * 3 + c] & 0xFF) * (1.0 / 255.0));
        chw[c * plane + i] = (x - mean[c]) / std[c];
      }
    }
    int gh = h / patchSize;
    int gw = w / patchSize;
    int gt = 1; // one still frame, repeated temporalPatchSize times inside each patch
    int m = mergeSize;
    int p = patchSize;
    int tps = temporalPatchSize;
    int dim = patchDim();
    float[] out = new float[gt * gh * gw * dim];
    int row = 0;
    for (int bh = 0; bh < gh / m; bh++) {
      for (int bw = 0; bw < gw / m; bw++) {
        for (int mh = 0; mh < m; mh++) {
          for (int mw = 0; mw < m; mw++) {
            int y0 = (bh * m + mh) * p;
            int x0 = (bw * m + mw) * p;
            int o = row * dim;
            for (int c = 0; c < 3; c++) {
              for (int t = 0; t < tps; t++) {
                for (int py = 0; py < p; py++) {
                  System.arraycopy(chw, c * plane + (y0 + py) * w + x0, out, o, p);
                  o += p;
                }
              }
            }
            row++;
          }
        }
      }
    }
    return new Image(out, new int[] {gt, gh, gw}, dim);
  }

  @Override
  public String toString() {
    return "Qwen25VlImageProcessor(min_pixels=" + minPixels + ", max_pixels=" + maxPixels
        + ", patch=" + patchSize + ", temporal=" + temporalPatchSize + ", merge=" + mergeSize
        + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Qwen25VlImageProcessor q && q.minPixels == minPixels
        && q.maxPixels == maxPixels && q.patchSize == patchSize
        && q.temporalPatchSize == temporalPatchSize && q.mergeSize == mergeSize
        && Arrays.equals(q.mean, mean) && Arrays.equals(q.std, std);
  }

  @Override
  public int hashCode() {
    return Objects.hash(minPixels, maxPixels, patchSize, temporalPatchSize, mergeSize,
        Arrays.hashCode(mean), Arrays.hashCode(std));
  }
}
