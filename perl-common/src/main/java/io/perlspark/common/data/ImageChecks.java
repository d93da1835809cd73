package io.perlspark.common.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Checks that encoded image bytes are a readable image within the size limits.
 *
 * <p>Order matters for safety: the byte size is checked first, then the dimensions are read from
 * the header (no pixel data is decoded), and only an image whose width × height is within the
 * limit is decoded in full. A "decompression bomb" (a tiny file claiming a huge image) is thus
 * refused before any large buffer is allocated.
 */
public final class ImageChecks {
  static {
    // Executors have no display; ImageIO must never try to reach one.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ImageChecks() {}

  /** Width and height of an image in pixels. */
  public record Dimensions(int width, int height) implements Serializable {
    public long pixels() {
      return (long) width * (long) height;
    }

    @Override
    public String toString() {
      return width + "x" + height;
    }
  }

  /** Why an image was refused; becomes a {@link Rejection} once the row is known. */
  public record Problem(RejectReason reason, String detail) implements Serializable {
    public Rejection toRejection(String rowId, String sourceFile) {
      return new Rejection(rowId, sourceFile, reason, detail);
    }
  }

  /**
   * Empty when the bytes are a fully decodable image within the limits; otherwise the problem:
   * {@link RejectReason#IMAGE_EMPTY}, {@link RejectReason#IMAGE_TOO_LARGE} or
   * {@link RejectReason#IMAGE_UNREADABLE}.
   */
  public static Optional<Problem> check(byte[] bytes, ValidationLimits limits) {
    if (bytes == null || bytes.length == 0) {
      return Optional.of(new Problem(RejectReason.IMAGE_EMPTY, "image has 0 bytes"));
    }
    if (bytes.length > limits.maxImageBytes()) {
      return Optional.of(new Problem(RejectReason.IMAGE_TOO_LARGE,
          "image has " + bytes.length + " bytes; limit " + limits.maxImageBytes()));
    }
    try (ImageInputStream in = open(bytes)) {
      ImageReader reader = readerFor(in);
      if (reader == null) {
        return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE,
            "no image reader recognises the " + bytes.length + " bytes (expected PNG, JPEG, GIF or BMP)"));
      }
      try {
        Dimensions dims = new Dimensions(reader.getWidth(0), reader.getHeight(0));
        if (dims.width() < 1 || dims.height() < 1) {
          return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE, "image header claims size " + dims));
        }
        if (dims.pixels() > limits.maxPixels()) {
          return Optional.of(new Problem(RejectReason.IMAGE_TOO_LARGE,
              "image is " + dims + " = " + dims.pixels() + " pixels; limit " + limits.maxPixels()));
        }
        String format = reader.getFormatName();
        if ("png".equalsIgnoreCase(format) && !pngComplete(bytes)) {
          // The PNG reader decodes a file whose trailing chunks are cut off without complaint.
          return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE, "PNG is truncated (no IEND chunk)"));
        }
        List<String> warnings = new ArrayList<>();
        // The JPEG reader reports a truncated file only as a warning and returns a partial image.
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        BufferedImage img = reader.read(0);
        if (img == null) {
          return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE, format + " decoder returned no image"));
        }
        if (!warnings.isEmpty()) {
          return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE,
              format + " image is damaged: " + String.join("; ", warnings)));
        }
        return Optional.empty();
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      // Decoders signal corrupt data with IIOException but also with unchecked exceptions
      // (e.g. ArrayIndexOutOfBounds on malformed headers); either way the image is unusable.
      return Optional.of(new Problem(RejectReason.IMAGE_UNREADABLE,
          "cannot decode image: " + e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
  }

  /** The image's dimensions read from its header only; empty when no reader recognises the bytes. */
  public static Optional<Dimensions> dimensions(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return Optional.empty();
    }
    try (ImageInputStream in = open(bytes)) {
      ImageReader reader = readerFor(in);
      if (reader == null) {
        return Optional.empty();
      }
      try {
        return Optional.of(new Dimensions(reader.getWidth(0), reader.getHeight(0)));
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether a PNG's chunk chain is intact up to its IEND chunk (bytes after IEND are tolerated).
   * Only the chunk lengths are followed; pixel data is not touched.
   */
  static boolean pngComplete(byte[] b) {
    if (b.length < PNG_SIGNATURE.length) {
      return false;
    }
    for (int i = 0; i < PNG_SIGNATURE.length; i++) {
      if (b[i] != PNG_SIGNATURE[i]) {
        return false;
      }
    }
    long pos = PNG_SIGNATURE.length;
    while (pos + 8 <= b.length) {
      int p = (int) pos;
      long len = ((b[p] & 0xffL) << 24) | ((b[p + 1] & 0xffL) << 16) | ((b[p + 2] & 0xffL) << 8) | (b[p + 3] & 0xffL);
      boolean iend = b[p + 4] == 'I' && b[p + 5] == 'E' && b[p + 6] == 'N' && b[p + 7] == 'D';
      long end = pos + 8 + len + 4; // length, type, data, CRC
      if (end > b.length) {
        return false;
      }
      if (iend) {
        return true;
      }
      pos = end;
    }
    return false;
  }

  // In-memory stream: ImageIO's default stream may spill to a temp file, unwanted on executors.
  private static ImageInputStream open(byte[] bytes) {
    return new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes));
  }

  private static ImageReader readerFor(ImageInputStream in) {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    if (!readers.hasNext()) {
      return null;
    }
    ImageReader reader = readers.next();
    reader.setInput(in, true, true);
    return reader;
  }
}
