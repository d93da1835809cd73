package io.perlspark.common.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ShapeRendererTest {

  private static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertNotNull(img, "bytes must decode as an image");
    return img;
  }

  @Test
  void pngDecodesToTheRequestedSizeAndStartsWithThePngSignature() throws IOException {
    byte[] png = ShapeRenderer.render(new ShapeSpec(Colour.RED, Shape.CIRCLE, 7, 0.8), 24, 0.05, 11L);
    assertEquals((byte) 0x89, png[0]);
    assertEquals('P', png[1]);
    BufferedImage img = decode(png);
    assertEquals(24, img.getWidth());
    assertEquals(24, img.getHeight());
    assertEquals(3, img.getColorModel().getNumColorComponents());
    assertFalse(img.getColorModel().hasAlpha());
  }

  @Test
  void sameInputsGiveIdenticalBytesAndAnotherSeedGivesOthers() {
    ShapeSpec spec = new ShapeSpec(Colour.BLUE, Shape.TRIANGLE, 9, 0.6);
    byte[] a = ShapeRenderer.render(spec, 24, 0.05, 42L);
    byte[] b = ShapeRenderer.render(spec, 24, 0.05, 42L);
    byte[] c = ShapeRenderer.render(spec, 24, 0.05, 43L);
    assertArrayEquals(a, b);
    assertFalse(java.util.Arrays.equals(a, c));
  }

  @Test
  void theShapesColourDominatesTheNonBackgroundPixels() throws IOException {
    for (Colour colour : Colour.values()) {
      for (Shape shape : Shape.values()) {
        for (long seed = 0; seed < 3; seed++) {
          // The hardest calibrated case: smallest radius, dimmest intensity, default noise.
          BufferedImage img = decode(
              ShapeRenderer.render(new ShapeSpec(colour, shape, 5, 0.6), 24, 0.05, seed));
          double[] sum = new double[3];
          int lit = 0;
          for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 24; x++) {
              int[] rgb = rgb(img, x, y);
              if (Math.max(rgb[0], Math.max(rgb[1], rgb[2])) > 0.3 * 255) {
                lit++;
                for (int c = 0; c < 3; c++) {
                  sum[c] += rgb[c];
                }
              }
            }
          }
          assertTrue(lit > 20, colour + " " + shape + ": only " + lit + " lit pixels");
          for (int c = 0; c < 3; c++) {
            double mean = sum[c] / lit / 255.0;
            String what = colour + " " + shape + " channel " + c + " mean " + mean;
            if (colour.channelOn(c)) {
              assertTrue(mean > 0.5, what);
            } else {
              assertTrue(mean < 0.1, what);
            }
          }
        }
      }
    }
  }

  @Test
  void withoutNoiseTheBackgroundIsBlackAndTheShapeHasExactlyTheScaledColour() throws IOException {
    ShapeSpec spec = new ShapeSpec(Colour.YELLOW, Shape.SQUARE, 6, 0.8);
    BufferedImage img = decode(ShapeRenderer.render(spec, 24, 0.0, 5L));
    int on = (int) Math.round(0.8 * 255);
    int lit = 0;
    for (int y = 0; y < 24; y++) {
      for (int x = 0; x < 24; x++) {
        int[] rgb = rgb(img, x, y);
        if (rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0) {
          continue;
        }
        assertArrayEquals(new int[] {on, on, 0}, rgb, "pixel " + x + "," + y);
        lit++;
      }
    }
    // side 1.8·6 = 10.8 px, sampled at pixel centres: 10 or 11 px per side
    assertTrue(lit >= 100 && lit <= 121, "square of radius 6 lit " + lit + " pixels");
  }

  @Test
  void areasFollowTheDocumentedGeometry() throws IOException {
    int r = 9;
    assertArea(Shape.CIRCLE, r, Math.PI * r * r);
    assertArea(Shape.SQUARE, r, Math.pow(2 * ShapeRenderer.SQUARE_HALF_SIDE * r, 2));
    assertArea(Shape.TRIANGLE, r, 2.0 * r * r);
  }

  private static void assertArea(Shape shape, int r, double expected) throws IOException {
    BufferedImage img = decode(ShapeRenderer.render(new ShapeSpec(Colour.GREEN, shape, r, 1.0), 24, 0.0, 1L));
    int lit = 0;
    for (int y = 0; y < 24; y++) {
      for (int x = 0; x < 24; x++) {
        lit += rgb(img, x, y)[1] > 0 ? 1 : 0;
      }
    }
    assertEquals(expected, lit, expected * 0.1, shape + " area");
  }

  @Test
  void theLargestShapeStaysInsideTheImageAndTheJitterIsSmallButReal() throws IOException {
    Set<String> centres = new HashSet<>();
    for (long seed = 0; seed < 60; seed++) {
      BufferedImage img = decode(ShapeRenderer.render(new ShapeSpec(Colour.RED, Shape.CIRCLE, 9, 1.0), 24, 0.0, seed));
      int minX = 99, maxX = -1, minY = 99, maxY = -1;
      for (int y = 0; y < 24; y++) {
        for (int x = 0; x < 24; x++) {
          if (rgb(img, x, y)[0] > 0) {
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
          }
        }
      }
      // A full circle of radius 9 is 18 px wide: none of it was cut off by the border.
      assertEquals(18, maxX - minX + 1, "seed " + seed);
      assertEquals(18, maxY - minY + 1, "seed " + seed);
      double cx = (minX + maxX + 1) / 2.0;
      double cy = (minY + maxY + 1) / 2.0;
      assertTrue(Math.abs(cx - 12) <= ShapeRenderer.MAX_JITTER && Math.abs(cy - 12) <= ShapeRenderer.MAX_JITTER,
          "centre " + cx + "," + cy);
      centres.add(cx + "," + cy);
    }
    assertTrue(centres.size() > 5, "jitter should move the shape; saw " + centres);
  }

  @Test
  void noiseHasTheConfiguredStandardDeviation() throws IOException {
    // A mid-intensity square, so the noise is not clipped: lit-channel values ~ N(0.5, 0.1²).
    double sum = 0;
    double sumSq = 0;
    int n = 0;
    for (long seed = 0; seed < 20; seed++) {
      BufferedImage img = decode(ShapeRenderer.render(new ShapeSpec(Colour.RED, Shape.SQUARE, 9, 0.5), 24, 0.1, seed));
      double[] c = ShapeRenderer.centre(9, 24, seed);
      for (int y = 0; y < 24; y++) {
        for (int x = 0; x < 24; x++) {
          if (ShapeRenderer.inside(Shape.SQUARE, x + 0.5 - c[0], y + 0.5 - c[1], 9)) {
            double v = rgb(img, x, y)[0] / 255.0;
            sum += v;
            sumSq += v * v;
            n++;
          }
        }
      }
    }
    double mean = sum / n;
    double sd = Math.sqrt(sumSq / n - mean * mean);
    // n ≈ 5000: SE of the mean ≈ 0.0014, of the sd ≈ 0.001; rounding to 1/255 adds < 0.001.
    assertEquals(0.5, mean, 0.006);
    assertEquals(0.1, sd, 0.005);
  }

  @Test
  void theNoiseTableIsAStandardNormal() {
    // Reference values of the exact Φ⁻¹; the approximation is documented to 2e-5.
    assertEquals(1.959964, ShapeRenderer.inverseNormalCdf(0.975), 2e-5);
    assertEquals(-2.326348, ShapeRenderer.inverseNormalCdf(0.01), 2e-5);
    assertEquals(3.352795, ShapeRenderer.inverseNormalCdf(1 - 0.0004), 2e-5);
    assertEquals(0.0, ShapeRenderer.inverseNormalCdf(0.5), 1e-12);
    double[] q = ShapeRenderer.normalQuantiles(4096);
    double mean = 0;
    double var = 0;
    for (double v : q) {
      mean += v / q.length;
      var += v * v / q.length;
    }
    assertEquals(0.0, mean, 1e-9);
    assertEquals(1.0, var, 1e-9);
    assertEquals(3.669, q[q.length - 1], 0.005); // Φ⁻¹(1 - 0.5/4096)
  }

  @Test
  void largeImagesSpanSeveralStoredBlocksAndStillDecode() throws IOException {
    // 512×512 RGB is 787 KB of scanlines: 13 stored deflate blocks.
    BufferedImage img = decode(ShapeRenderer.render(new ShapeSpec(Colour.BLUE, Shape.CIRCLE, 200, 1.0), 512, 0.05, 3L));
    assertEquals(512, img.getWidth());
    BufferedImage expected = ShapeRenderer.renderImage(new ShapeSpec(Colour.BLUE, Shape.CIRCLE, 200, 1.0), 512, 0.05, 3L);
    for (int y = 0; y < 512; y += 7) {
      for (int x = 0; x < 512; x += 5) {
        assertEquals(expected.getRGB(x, y), img.getRGB(x, y), "pixel " + x + "," + y);
      }
    }
  }

  @Test
  void badArgumentsAreNamed() {
    ShapeSpec big = new ShapeSpec(Colour.RED, Shape.CIRCLE, 13, 1.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShapeRenderer.render(big, 24, 0.05, 1L));
    assertTrue(e.getMessage().contains("radius 13"), e.getMessage());
    ShapeSpec ok = new ShapeSpec(Colour.RED, Shape.CIRCLE, 5, 1.0);
    e = assertThrows(IllegalArgumentException.class, () -> ShapeRenderer.render(ok, 24, -0.1, 1L));
    assertTrue(e.getMessage().contains("noiseSigma"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ShapeSpec(Colour.RED, Shape.CIRCLE, 5, 1.5));
    assertTrue(e.getMessage().contains("intensity"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ShapeSpec(Colour.RED, Shape.CIRCLE, 0, 1.0));
    assertTrue(e.getMessage().contains("radius"), e.getMessage());
  }

  private static int[] rgb(BufferedImage img, int x, int y) {
    int p = img.getRGB(x, y);
    return new int[] {(p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff};
  }
}
