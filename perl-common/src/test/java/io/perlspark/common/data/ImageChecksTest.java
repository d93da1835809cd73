package io.perlspark.common.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageChecksTest {
  private static final ValidationLimits LIMITS = ValidationLimits.defaults();

  private static byte[] encode(String format, int w, int h) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random rnd = new Random(1);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rnd.nextInt()); // noise, so the file is not trivially small
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out));
    return out.toByteArray();
  }

  private static RejectReason reason(byte[] bytes, ValidationLimits limits) {
    Optional<ImageChecks.Problem> p = ImageChecks.check(bytes, limits);
    assertTrue(p.isPresent(), "expected a problem");
    assertTrue(!p.get().detail().isBlank());
    return p.get().reason();
  }

  @Test
  void realPngAndJpegPass() throws IOException {
    byte[] png = encode("png", 48, 32);
    assertEquals(Optional.empty(), ImageChecks.check(png, LIMITS));
    assertEquals(Optional.of(new ImageChecks.Dimensions(48, 32)), ImageChecks.dimensions(png));
    assertEquals(Optional.empty(), ImageChecks.check(encode("jpg", 40, 40), LIMITS));
  }

  @Test
  void emptyBytes() {
    assertEquals(RejectReason.IMAGE_EMPTY, reason(new byte[0], LIMITS));
  }

  @Test
  void truncatedPngAndJpegAreUnreadable() throws IOException {
    byte[] png = encode("png", 48, 32);
    assertEquals(RejectReason.IMAGE_UNREADABLE, reason(Arrays.copyOf(png, png.length / 2), LIMITS));
    // Losing only the trailing IEND chunk still decodes in ImageIO; the chunk walk catches it.
    assertEquals(RejectReason.IMAGE_UNREADABLE, reason(Arrays.copyOf(png, png.length - 12), LIMITS));
    assertEquals(RejectReason.IMAGE_UNREADABLE, reason(Arrays.copyOf(png, 30), LIMITS));
    byte[] jpg = encode("jpg", 40, 40);
    // The JPEG reader only warns on truncation and returns a partial image.
    assertEquals(RejectReason.IMAGE_UNREADABLE, reason(Arrays.copyOf(jpg, jpg.length / 2), LIMITS));
  }

  @Test
  void trailingBytesAfterIendAreTolerated() throws IOException {
    byte[] png = encode("png", 8, 8);
    byte[] padded = Arrays.copyOf(png, png.length + 5);
    assertEquals(Optional.empty(), ImageChecks.check(padded, LIMITS));
  }

  @Test
  void randomBytesAreUnreadable() {
    byte[] noise = new byte[2048];
    new Random(7).nextBytes(noise);
    assertEquals(RejectReason.IMAGE_UNREADABLE, reason(noise, LIMITS));
    assertEquals(Optional.empty(), ImageChecks.dimensions(noise));
  }

  /** A valid 8x8 PNG whose header (with a correct CRC) claims 100000 x 100000: refused from the header alone. */
  @Test
  void decompressionBombIsRefusedFromTheHeader() throws IOException {
    byte[] bomb = encode("png", 8, 8);
    ByteBuffer b = ByteBuffer.wrap(bomb);
    b.putInt(16, 100_000).putInt(20, 100_000); // IHDR width, height
    CRC32 crc = new CRC32();
    crc.update(bomb, 12, 17); // IHDR type + data
    b.putInt(29, (int) crc.getValue());
    assertEquals(Optional.of(new ImageChecks.Dimensions(100_000, 100_000)), ImageChecks.dimensions(bomb));
    long start = System.nanoTime();
    Optional<ImageChecks.Problem> p = ImageChecks.check(bomb, LIMITS);
    assertEquals(RejectReason.IMAGE_TOO_LARGE, p.orElseThrow().reason());
    assertTrue(p.get().detail().contains("100000x100000"), p.get().detail());
    assertTrue(System.nanoTime() - start < 2_000_000_000L, "header check must not decode");
  }

  @Test
  void byteAndPixelLimits() throws IOException {
    byte[] png = encode("png", 16, 16);
    assertEquals(RejectReason.IMAGE_TOO_LARGE, reason(png, LIMITS.withMaxImageBytes(png.length - 1)));
    assertEquals(RejectReason.IMAGE_TOO_LARGE, reason(png, LIMITS.withMaxPixels(255)));
    assertEquals(Optional.empty(), ImageChecks.check(png, LIMITS.withMaxPixels(256)));
  }
}
