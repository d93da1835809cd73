package io.perlspark.common.synth;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * A minimal PNG encoder for 8-bit RGB images: signature, IHDR, one IDAT, IEND; no timestamps or
 * other metadata.
 *
 * <p>The IDAT's zlib stream uses stored (uncompressed) deflate blocks written here, not
 * {@link java.util.zip.Deflater}: compressed output depends on the zlib build the JVM links (system
 * zlib, zlib-ng, vendor forks differ byte for byte), and Spark executors must produce identical
 * bytes. Noisy 24×24 images barely compress anyway (≈ 1.8 KB each); Parquet compresses the column.
 */
final class Png {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final int MAX_STORED_BLOCK = 65535;

  private Png() {}

  /** Encodes row-major RGB bytes (3 per pixel) as a PNG file. */
  static byte[] encodeRgb(byte[] rgb, int width, int height) {
    if (width < 1 || height < 1 || rgb.length != width * height * 3) {
      throw new IllegalArgumentException("expected " + width * height * 3 + " RGB bytes for "
          + width + "x" + height + ", got " + rgb.length);
    }
    int stride = width * 3;
    byte[] raw = new byte[height * (stride + 1)];
    for (int y = 0; y < height; y++) {
      // raw[y * (stride + 1)] stays 0: filter type None
      System.arraycopy(rgb, y * stride, raw, y * (stride + 1) + 1, stride);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + 128);
    out.writeBytes(SIGNATURE);
    byte[] ihdr = new byte[13];
    putInt(ihdr, 0, width);
    putInt(ihdr, 4, height);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: truecolour RGB; compression, filter, interlace stay 0
    chunk(out, "IHDR", ihdr);
    chunk(out, "IDAT", zlibStored(raw));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4). */
  static byte[] zlibStored(byte[] data) {
    int blocks = Math.max(1, (data.length + MAX_STORED_BLOCK - 1) / MAX_STORED_BLOCK);
    byte[] z = new byte[2 + blocks * 5 + data.length + 4];
    z[0] = 0x78; // deflate, 32 KB window
    z[1] = 0x01; // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0
    int pos = 2;
    int off = 0;
    for (int b = 0; b < blocks; b++) {
      int len = Math.min(MAX_STORED_BLOCK, data.length - off);
      z[pos++] = (byte) (b == blocks - 1 ? 1 : 0); // BFINAL, BTYPE = 00 (stored)
      z[pos++] = (byte) len;
      z[pos++] = (byte) (len >>> 8);
      z[pos++] = (byte) ~len;
      z[pos++] = (byte) (~len >>> 8);
      System.arraycopy(data, off, z, pos, len);
      pos += len;
      off += len;
    }
    Adler32 adler = new Adler32();
    adler.update(data);
    putInt(z, pos, (int) adler.getValue());
    return z;
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    byte[] len = new byte[4];
    putInt(len, 0, data.length);
    out.writeBytes(len);
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    byte[] sum = new byte[4];
    putInt(sum, 0, (int) crc.getValue());
    out.writeBytes(sum);
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }
}
