package io.perlspark.jobs.prepare;

import io.perlspark.jobs.PerlUserException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import javax.imageio.ImageIO;

/**
 * What {@code prepare} does with an image larger than a target: {@code none} keeps it as it is;
 * {@code fit:N} scales it down (aspect kept) so both sides are at most N pixels, re-encoded as PNG.
 */
public record ResizePolicy(int maxSide) implements Serializable {
  public static final ResizePolicy NONE = new ResizePolicy(0);

  /**
   * Largest image decoded for resizing (8192 x 8192, 256 MiB as ARGB): with {@code --resize}, an
   * image over {@code --max-pixels} is scaled first and checked after, but a header that claims more
   * than this is refused unread, so a tiny file claiming a huge image cannot exhaust memory.
   */
  public static final long DECODE_CEILING_PIXELS = 8192L * 8192L;

  public boolean isNone() {
    return maxSide == 0;
  }

  /** The limits to check an image against before resizing it. */
  public io.perlspark.common.data.ValidationLimits decodeLimits(io.perlspark.common.data.ValidationLimits limits) {
    return isNone() ? limits : limits.withMaxPixels(Math.max(limits.maxPixels(), DECODE_CEILING_PIXELS));
  }

  @Override
  public String toString() {
    return isNone() ? "none" : "fit:" + maxSide;
  }

  public static ResizePolicy parse(String s) {
    if (s == null || s.equals("none")) {
      return NONE;
    }
    if (s.startsWith("fit:")) {
      try {
        int n = Integer.parseInt(s.substring(4));
        if (n >= 1) {
          return new ResizePolicy(n);
        }
      } catch (NumberFormatException ignored) {
        // falls through to the error below
      }
    }
    throw new PerlUserException("--resize " + s + ": expected none or fit:N with N >= 1 (e.g. fit:448)");
  }

  /** The bytes unchanged when no resize is needed, else a scaled PNG. */
  public byte[] apply(byte[] bytes) throws IOException {
    if (maxSide == 0) {
      return bytes;
    }
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    int w = img.getWidth();
    int h = img.getHeight();
    if (w <= maxSide && h <= maxSide) {
      return bytes;
    }
    double scale = Math.min((double) maxSide / w, (double) maxSide / h);
    int nw = Math.max(1, (int) Math.round(w * scale));
    int nh = Math.max(1, (int) Math.round(h * scale));
    BufferedImage out = new BufferedImage(nw, nh, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(img, 0, 0, nw, nh, null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    ImageIO.write(out, "png", bos);
    return bos.toByteArray();
  }
}
