package io.perlspark.model.family.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePixelsTest {
  private static byte[] encode(BufferedImage image, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, format, out);
    return out.toByteArray();
  }

  /** Left half red, right half blue. */
  private static BufferedImage halves(int size) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, size / 2, size);
    g.setColor(Color.BLUE);
    g.fillRect(size / 2, 0, size / 2, size);
    g.dispose();
    return image;
  }

  @Test
  void pngDecodesToChwInUnitRange() throws IOException {
    float[] chw = ImagePixels.decode(encode(halves(24), "png"), 24, 3);
    int plane = 24 * 24;
    assertEquals(3 * plane, chw.length);
    // Pixel (row 5, col 2) is red, (row 5, col 20) is blue.
    assertEquals(1f, chw[5 * 24 + 2]);
    assertEquals(0f, chw[2 * plane + 5 * 24 + 2]);
    assertEquals(0f, chw[5 * 24 + 20]);
    assertEquals(1f, chw[2 * plane + 5 * 24 + 20]);
  }

  @Test
  void largerImagesAreResizedAndGreyUsesLuma() throws IOException {
    float[] rgb = ImagePixels.decode(encode(halves(96), "png"), 24, 3);
    assertEquals(3 * 24 * 24, rgb.length);
    assertEquals(1f, rgb[10 * 24 + 3], 0.02f);
    float[] grey = ImagePixels.decode(encode(halves(48), "jpg"), 24, 1);
    assertEquals(24 * 24, grey.length);
    assertEquals(0.299f, grey[10 * 24 + 3], 0.06f); // red's luma, JPEG-lossy
    for (float v : grey) {
      assertTrue(v >= 0f && v <= 1f);
    }
  }

  @Test
  void badInputsAreRejected() throws IOException {
    IllegalArgumentException notImage =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImagePixels.decode(new byte[] {1, 2, 3}, 24, 3));
    assertTrue(notImage.getMessage().contains("not a PNG or JPEG"), notImage.getMessage());
    byte[] png = encode(halves(8), "png");
    assertThrows(IllegalArgumentException.class, () -> ImagePixels.decode(png, 24, 2));
    assertThrows(IllegalArgumentException.class, () -> ImagePixels.decode(png, 0, 3));
  }
}
