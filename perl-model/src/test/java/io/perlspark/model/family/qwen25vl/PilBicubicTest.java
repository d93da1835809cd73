package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The Pillow port against Pillow's own expected outputs (its Tests/test_image_resample.py: the
 * bicubic accuracy cases and the coefficient regressions), covering a strong reduction, which the
 * Qwen fixtures' images (scale factors 0.8 to 2.1) do not.
 */
class PilBicubicTest {

  /** Pillow's make_case: top-left and bottom-right quadrants {@code color}, the others 255-color. */
  private static byte[] quadrants(int size, int color) {
    byte[] hwc = new byte[size * size * 3];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        boolean bright = (x < size / 2) == (y < size / 2);
        int v = bright ? color : 255 - color;
        for (int c = 0; c < 3; c++) {
          hwc[(y * size + x) * 3 + c] = (byte) v;
        }
      }
    }
    return hwc;
  }

  /** Pillow's make_sample: the top-left quarter given, the rest by its mirror symmetries. */
  private static int[][] expected(int size, int[] quarter) {
    int h = size / 2;
    int[][] px = new int[size][size];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < h; x++) {
        int v = quarter[y * h + x];
        px[y][x] = v;
        px[size - y - 1][size - x - 1] = v;
        px[size - y - 1][x] = 255 - v;
        px[y][size - x - 1] = 255 - v;
      }
    }
    return px;
  }

  private static void assertImage(int[][] want, byte[] got, int size, String what) {
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        for (int c = 0; c < 3; c++) {
          assertEquals(want[y][x], got[(y * size + x) * 3 + c] & 0xFF,
              what + " at (" + x + ", " + y + ") channel " + c);
        }
      }
    }
  }

  @Test
  void reduceBicubicTwelveToSix() {
    byte[] out = PilBicubic.resizeRgb(quadrants(12, 0xE1), 12, 12, 6, 6);
    assertImage(expected(6, new int[] {0xE1, 0xE3, 0xD4, 0xE3, 0xE5, 0xD6, 0xD4, 0xD6, 0xC9}),
        out, 6, "12->6");
  }

  @Test
  void enlargeBicubicFourToEight() {
    byte[] out = PilBicubic.resizeRgb(quadrants(4, 0xE1), 4, 4, 8, 8);
    assertImage(expected(8, new int[] {
        0xE1, 0xE5, 0xEE, 0xB9,
        0xE5, 0xE9, 0xF3, 0xBC,
        0xEE, 0xF3, 0xFD, 0xC1,
        0xB9, 0xBC, 0xC1, 0xA2}), out, 8, "4->8");
  }

  @Test
  void strongReductionKeepsTheHalfLevelAtTheEdge() {
    // Pillow's TestCoreResampleCoefficients.test_reduce: one row, left half 254, right half 0,
    // reduced ~80000-fold; the middle output pixel must be exactly 127.
    for (int size = 400000; size < 400010; size += 2) {
      byte[] row = new byte[size * 3];
      for (int x = 0; x < size / 2; x++) {
        row[x * 3] = (byte) 254;
        row[x * 3 + 1] = (byte) 254;
        row[x * 3 + 2] = (byte) 254;
      }
      byte[] out = PilBicubic.resizeRgb(row, size, 1, 5, 1);
      assertEquals(127, out[2 * 3] & 0xFF, "width " + size);
    }
  }

  @Test
  void constantImageStaysConstantWhenReducedFivefold() {
    // Pillow's test_nonzero_coefficients (issue 2161): 1280x1280 -> 256x256.
    int n = 1280;
    byte[] img = new byte[n * n * 3];
    for (int i = 0; i < n * n; i++) {
      img[i * 3] = 0x20;
      img[i * 3 + 1] = 0x40;
      img[i * 3 + 2] = 0x60;
    }
    byte[] out = PilBicubic.resizeRgb(img, n, n, 256, 256);
    for (int i = 0; i < 256 * 256; i++) {
      assertEquals(0x20, out[i * 3], "R at " + i);
      assertEquals(0x40, out[i * 3 + 1], "G at " + i);
      assertEquals(0x60, out[i * 3 + 2], "B at " + i);
    }
  }
}
