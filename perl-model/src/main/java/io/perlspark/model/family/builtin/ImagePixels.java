package io.perlspark.model.family.builtin;

import io.perlspark.model.family.EncodedImages;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/** Decodes encoded images into the CHW float layout the policy takes. */
public final class ImagePixels {
  static {
    // Executors have no display; java.awt must not try to open one.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private ImagePixels() {}

  /**
   * Decodes a PNG or JPEG into {@code channels x imageSize x imageSize} floats in [0, 1] (CHW),
   * resizing bilinearly when the image has another size.
   *
   * @param channels 3 for RGB, 1 for grey (luma)
   */
  public static float[] decode(byte[] pngOrJpeg, int imageSize, int channels) {
    Objects.requireNonNull(pngOrJpeg, "pngOrJpeg");
    BufferedImage image;
    try {
      image = EncodedImages.read(pngOrJpeg);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode image (" + pngOrJpeg.length + " bytes)", e);
    }
    if (image == null) {
      throw new IllegalArgumentException(
          "image bytes (" + pngOrJpeg.length
              + " bytes) are not a PNG or JPEG that ImageIO can read");
    }
    return fromImage(image, imageSize, channels);
  }

  /** Converts an image to CHW floats in [0, 1], resizing bilinearly if needed. */
  public static float[] fromImage(BufferedImage image, int imageSize, int channels) {
    if (imageSize <= 0) {
      throw new IllegalArgumentException("imageSize=" + imageSize + " must be > 0");
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels=" + channels + " must be 1 (grey) or 3 (RGB)");
    }
    BufferedImage rgb = image;
    if (image.getWidth() != imageSize
        || image.getHeight() != imageSize
        || image.getType() != BufferedImage.TYPE_INT_RGB) {
      rgb = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = rgb.createGraphics();
      try {
        g.setRenderingHint(
            RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(image, 0, 0, imageSize, imageSize, null);
      } finally {
        g.dispose();
      }
    }
    int plane = imageSize * imageSize;
    float[] out = new float[channels * plane];
    int[] argb = rgb.getRGB(0, 0, imageSize, imageSize, null, 0, imageSize);
    for (int i = 0; i < plane; i++) {
      int p = argb[i];
      float r = ((p >> 16) & 0xff) / 255f;
      float g = ((p >> 8) & 0xff) / 255f;
      float b = (p & 0xff) / 255f;
      if (channels == 3) {
        out[i] = r;
        out[plane + i] = g;
        out[2 * plane + i] = b;
      } else {
        out[i] = 0.299f * r + 0.587f * g + 0.114f * b;
      }
    }
    return out;
  }
}
