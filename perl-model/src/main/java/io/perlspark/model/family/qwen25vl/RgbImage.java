package io.perlspark.model.family.qwen25vl;

import io.perlspark.model.family.EncodedImages;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * An 8-bit RGB image, {@code height x width x 3} bytes, row-major and interleaved (what PIL's
 * {@code Image.convert("RGB")} holds).
 *
 * <p>Decoding reads the raster's samples rather than {@code BufferedImage.getRGB}: Java treats
 * 8-bit grey as linear and would gamma-convert it, while PIL just copies the grey value into R, G
 * and B (1/2/4-bit grey stretched to 0..255). Alpha is dropped without compositing (PIL's {@code convert("RGB")}); palette images map
 * through the palette; 16-bit samples keep their high byte (not checked against PIL).
 */
public record RgbImage(int width, int height, byte[] hwc) {

  public RgbImage {
    Objects.requireNonNull(hwc, "hwc");
    if (width <= 0 || height <= 0 || hwc.length != width * height * 3) {
      throw new IllegalArgumentException(
          "RGB image " + width + "x" + height + " needs " + ((long) width * height * 3)
              + " bytes, got " + hwc.length);
    }
  }

  /**
   * Decodes PNG, JPEG, BMP or GIF bytes (whatever {@link ImageIO} reads). PNG decoding is lossless,
   * so it equals PIL's. JPEG goes through Java's decoder (IJG libjpeg based) while PIL uses
   * libjpeg-turbo; the fixtures hold no JPEG, so JPEG parity with PIL is not verified.
   *
   * @param what names the image in error messages (e.g. "image 2 of the prompt")
   */
  public static RgbImage decode(byte[] encoded, String what) {
    if (encoded == null || encoded.length == 0) {
      throw new IllegalArgumentException(what + " is empty (no bytes)");
    }
    BufferedImage img;
    try {
      img = EncodedImages.read(encoded);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          what + " (" + encoded.length + " bytes) cannot be decoded: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new IllegalArgumentException(
          what + " (" + encoded.length + " bytes) is not an image format that can be decoded"
              + " (PNG, JPEG, BMP, GIF are supported)");
    }
    return fromBufferedImage(img, what);
  }

  /** Converts a decoded image to 8-bit RGB (see the class comment). */
  public static RgbImage fromBufferedImage(BufferedImage img, String what) {
    int w = img.getWidth();
    int h = img.getHeight();
    Raster raster = img.getRaster();
    ColorModel cm = img.getColorModel();
    byte[] out = new byte[w * h * 3];
    int[] px = new int[raster.getNumBands()];
    if (cm instanceof IndexColorModel icm) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int idx = raster.getPixel(x, y, px)[0];
          int o = (y * w + x) * 3;
          out[o] = (byte) icm.getRed(idx);
          out[o + 1] = (byte) icm.getGreen(idx);
          out[o + 2] = (byte) icm.getBlue(idx);
        }
      }
      return new RgbImage(w, h, out);
    }
    int colorBands = cm.getNumColorComponents();
    if (colorBands != 1 && colorBands != 3) {
      throw new IllegalArgumentException(
          what + " has " + colorBands + " colour components (e.g. CMYK); only grey and RGB images"
              + " are supported");
    }
    int bits = cm.getComponentSize(0);
    int shift = Math.max(0, bits - 8);
    // 1/2/4-bit grey is stretched to 0..255 (PIL's "L" conversion), wider samples keep the high byte.
    int maxLow = bits < 8 ? (1 << bits) - 1 : 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.getPixel(x, y, px);
        int o = (y * w + x) * 3;
        if (colorBands == 1) {
          byte g = (byte) (maxLow > 0 ? px[0] * 255 / maxLow : px[0] >> shift);
          out[o] = g;
          out[o + 1] = g;
          out[o + 2] = g;
        } else {
          out[o] = (byte) (px[0] >> shift);
          out[o + 1] = (byte) (px[1] >> shift);
          out[o + 2] = (byte) (px[2] >> shift);
        }
      }
    }
    return new RgbImage(w, h, out);
  }
}
