package io.perlspark.jobs.prepare;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/**
 * How the images of the bad-input corpus (src/test/resources/bad-input/images and outside/) were
 * made. The files are checked in; run {@code main} with the bad-input folder to write them again.
 */
public final class BadInputImages {
  private BadInputImages() {}

  public static void main(String[] args) throws IOException {
    write(Path.of(args.length > 0 ? args[0] : "src/test/resources/bad-input"));
  }

  static void write(Path corpus) throws IOException {
    Path images = corpus.resolve("images");
    Files.createDirectories(images.resolve("sub"));
    Files.createDirectories(images.resolve("a-folder.png"));
    Files.createDirectories(corpus.resolve("outside"));
    byte[] red = TestImages.png(16, 16, Color.RED);
    byte[] green = jpeg(16, 16, Color.GREEN);
    Files.write(images.resolve("red.png"), red);
    Files.write(images.resolve("blue.png"), TestImages.png(20, 12, Color.BLUE));
    Files.write(images.resolve("sub/yellow.png"), TestImages.png(8, 8, Color.YELLOW));
    Files.write(images.resolve("with space.png"), TestImages.png(12, 12, Color.GRAY));
    Files.write(images.resolve("green.jpg"), green);
    Files.write(images.resolve("empty.png"), new byte[0]);
    Files.writeString(images.resolve("not-an-image.png"), "this is a text file, not an image\n");
    Files.write(images.resolve("truncated.png"), Arrays.copyOf(red, red.length / 2));
    Files.write(images.resolve("truncated.jpg"), Arrays.copyOf(green, green.length * 6 / 10));
    Files.write(images.resolve("corrupt-data.png"), corruptIdat(red));
    Files.write(images.resolve("bomb.png"), headerOnlyPng(100_000, 100_000));
    Files.write(images.resolve("over-limit.png"), noise(48, 48, 7));
    Files.writeString(images.resolve("a-folder.png/not-a-file.txt"), "a folder named like an image\n");
    Files.write(corpus.resolve("outside/secret.png"), TestImages.png(10, 10, Color.MAGENTA));
  }

  static byte[] jpeg(int w, int h, Color c) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, w, h);
    g.dispose();
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", bos);
    return bos.toByteArray();
  }

  /** Random pixels compress badly: a small image whose file is a few KB. */
  static byte[] noise(int w, int h, long seed) throws IOException {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    ImageIO.write(img, "png", bos);
    return bos.toByteArray();
  }

  /** The PNG with every byte of its first IDAT chunk's data set to 0xFF (not a zlib stream). */
  static byte[] corruptIdat(byte[] png) {
    byte[] b = png.clone();
    int pos = 8;
    while (pos + 8 <= b.length) {
      int len = ((b[pos] & 0xff) << 24) | ((b[pos + 1] & 0xff) << 16) | ((b[pos + 2] & 0xff) << 8) | (b[pos + 3] & 0xff);
      String type = new String(b, pos + 4, 4, StandardCharsets.US_ASCII);
      if (type.equals("IDAT")) {
        Arrays.fill(b, pos + 8, pos + 8 + len, (byte) 0xFF);
        return b;
      }
      pos += 12 + len;
    }
    throw new IllegalArgumentException("no IDAT chunk");
  }

  /** A complete, tiny PNG whose header claims w x h pixels: a decompression bomb's shape. */
  static byte[] headerOnlyPng(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    byte[] ihdr = new byte[13];
    putInt(ihdr, 0, w);
    putInt(ihdr, 4, h);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    chunk(out, "IHDR", ihdr);
    Deflater d = new Deflater();
    d.setInput(new byte[] {0, 0, 0, 0});
    d.finish();
    byte[] buf = new byte[64];
    int n = d.deflate(buf);
    chunk(out, "IDAT", Arrays.copyOf(buf, n));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
    byte[] len = new byte[4];
    putInt(len, 0, data.length);
    out.write(len);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    byte[] c = new byte[4];
    putInt(c, 0, (int) crc.getValue());
    out.write(c);
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }
}
