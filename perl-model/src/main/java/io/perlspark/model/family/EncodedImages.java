package io.perlspark.model.family;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/** Decoding image bytes that are already in memory, for every model family's prompt processor. */
public final class EncodedImages {
  private EncodedImages() {}

  /**
   * The decoded image, or null when no ImageIO reader knows the format. {@code ImageIO.read} of an
   * InputStream caches the stream in a temporary file by default (create, write, read, delete per
   * image): for bytes already in memory that is pure cost, seen in rollout and gradient tasks.
   */
  public static BufferedImage read(byte[] encoded) throws IOException {
    ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded));
    BufferedImage image = ImageIO.read(in);
    if (image == null) {
      in.close(); // ImageIO.read closes the stream itself only when it found a reader
    }
    return image;
  }
}
