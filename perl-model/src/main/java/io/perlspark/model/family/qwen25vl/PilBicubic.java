package io.perlspark.model.family.qwen25vl;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} for 8-bit RGB images, ported from Pillow's
 * {@code libImaging/Resample.c} so that resized pixels are byte-identical to what the Hugging Face
 * PIL image processor feeds the model.
 *
 * <p>What matters for exactness: the bicubic kernel (a = -0.5) is widened by the downscale factor;
 * coefficients are computed in double, normalised per output pixel, then converted to 22-bit fixed
 * point; each pass accumulates in int starting from half a unit and clips to uint8; the horizontal
 * pass runs first over only the source rows the vertical pass will read, and its uint8 output is
 * the vertical pass's input.
 */
final class PilBicubic {
  /** 32 bits minus 8 for the result minus 2 for overshoot of the negative lobes (Pillow's choice). */
  private static final int PRECISION_BITS = 32 - 8 - 2;

  private static final double SUPPORT = 2.0;

  private PilBicubic() {}

  /** Coefficients of one resampling direction: per output pixel a first source index and weights. */
  private record Coeffs(int ksize, int[] first, int[] count, int[] weights) {}

  /**
   * Resizes an RGB image stored as {@code h x w x 3} bytes (row-major, interleaved) to {@code
   * outH x outW}. Returns a copy when the size does not change, as Pillow does.
   */
  static byte[] resizeRgb(byte[] hwc, int inW, int inH, int outW, int outH) {
    if (hwc.length != inW * inH * 3) {
      throw new IllegalArgumentException(
          "image buffer holds " + hwc.length + " bytes, expected " + inW + "x" + inH + "x3");
    }
    if (outW <= 0 || outH <= 0) {
      throw new IllegalArgumentException("target size " + outW + "x" + outH + " is empty");
    }
    boolean needHorizontal = outW != inW;
    boolean needVertical = outH != inH;
    Coeffs vert = precompute(inH, outH);
    int firstRow = vert.first[0];
    int lastRow = vert.first[outH - 1] + vert.count[outH - 1];

    byte[] src = hwc;
    int srcW = inW;
    int rowOffset = 0; // rows of src that the vertical bounds are relative to
    if (needHorizontal) {
      Coeffs horiz = precompute(inW, outW);
      int rows = lastRow - firstRow;
      byte[] tmp = new byte[rows * outW * 3];
      for (int y = 0; y < rows; y++) {
        int inRow = (y + firstRow) * inW * 3;
        int outRow = y * outW * 3;
        for (int x = 0; x < outW; x++) {
          int xmin = horiz.first[x];
          int n = horiz.count[x];
          int k = x * horiz.ksize;
          int s0 = 1 << (PRECISION_BITS - 1);
          int s1 = s0;
          int s2 = s0;
          for (int i = 0; i < n; i++) {
            int p = inRow + (xmin + i) * 3;
            int w = horiz.weights[k + i];
            s0 += (hwc[p] & 0xFF) * w;
            s1 += (hwc[p + 1] & 0xFF) * w;
            s2 += (hwc[p + 2] & 0xFF) * w;
          }
          tmp[outRow + x * 3] = clip8(s0);
          tmp[outRow + x * 3 + 1] = clip8(s1);
          tmp[outRow + x * 3 + 2] = clip8(s2);
        }
      }
      src = tmp;
      srcW = outW;
      rowOffset = firstRow;
    }
    if (!needVertical) {
      return src == hwc ? hwc.clone() : src;
    }
    byte[] out = new byte[outH * srcW * 3];
    for (int y = 0; y < outH; y++) {
      int ymin = vert.first[y] - rowOffset;
      int n = vert.count[y];
      int k = y * vert.ksize;
      for (int x = 0; x < srcW; x++) {
        int s0 = 1 << (PRECISION_BITS - 1);
        int s1 = s0;
        int s2 = s0;
        for (int i = 0; i < n; i++) {
          int p = ((ymin + i) * srcW + x) * 3;
          int w = vert.weights[k + i];
          s0 += (src[p] & 0xFF) * w;
          s1 += (src[p + 1] & 0xFF) * w;
          s2 += (src[p + 2] & 0xFF) * w;
        }
        int q = (y * srcW + x) * 3;
        out[q] = clip8(s0);
        out[q + 1] = clip8(s1);
        out[q + 2] = clip8(s2);
      }
    }
    return out;
  }

  static double bicubic(double x) {
    final double a = -0.5;
    if (x < 0.0) {
      x = -x;
    }
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  /** Pillow's precompute_coeffs (box = the whole input) followed by normalize_coeffs_8bpc. */
  private static Coeffs precompute(int inSize, int outSize) {
    // Pillow passes the box edges as float; for whole-image boxes (float) inSize is exact.
    double scale = (double) ((float) inSize - 0f) / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = SUPPORT * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] first = new int[outSize];
    int[] count = new int[outSize];
    int[] weights = new int[outSize * ksize];
    double[] k = new double[ksize];
    for (int xx = 0; xx < outSize; xx++) {
      double center = 0.0 + (xx + 0.5) * scale;
      double ww = 0.0;
      double ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) {
        xmin = 0;
      }
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) {
        xmax = inSize;
      }
      xmax -= xmin;
      for (int x = 0; x < xmax; x++) {
        double w = bicubic((x + xmin - center + 0.5) * ss);
        k[x] = w;
        ww += w;
      }
      for (int x = 0; x < xmax; x++) {
        double v = ww != 0.0 ? k[x] / ww : k[x];
        // C's (int) cast truncates toward zero, as Java's does.
        weights[xx * ksize + x] =
            v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
      }
      first[xx] = xmin;
      count[xx] = xmax;
    }
    return new Coeffs(ksize, first, count, weights);
  }

  /** Pillow's clip8: the accumulator's integer part (arithmetic shift), clamped to [0, 255]. */
  private static byte clip8(int acc) {
    int v = acc >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : Math.min(v, 255));
  }
}
