package io.perlspark.common.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One image of a sample: either its encoded bytes (PNG/JPEG), or a URI to read them from, or both.
 * Equality is by content (bytes compared element-wise), so permutation tests can compare multisets.
 */
public final class ImageRef implements Serializable {
  private static final long serialVersionUID = 1L;

  private final byte[] bytes;
  private final String uri;

  private ImageRef(byte[] bytes, String uri) {
    if (bytes == null && (uri == null || uri.isBlank())) {
      throw new IllegalArgumentException("an image needs bytes or a uri");
    }
    this.bytes = bytes;
    this.uri = uri;
  }

  public static ImageRef ofBytes(byte[] bytes) {
    return new ImageRef(Objects.requireNonNull(bytes, "bytes"), null);
  }

  public static ImageRef ofUri(String uri) {
    return new ImageRef(null, Objects.requireNonNull(uri, "uri"));
  }

  public static ImageRef of(byte[] bytes, String uri) {
    return new ImageRef(bytes, uri);
  }

  /** The encoded bytes, or null when the image is only a reference. Not copied: do not mutate. */
  public byte[] bytes() {
    return bytes;
  }

  public String uri() {
    return uri;
  }

  public boolean hasBytes() {
    return bytes != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageRef other && Arrays.equals(bytes, other.bytes) && Objects.equals(uri, other.uri);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(bytes) + Objects.hashCode(uri);
  }

  @Override
  public String toString() {
    if (bytes == null) {
      return "ImageRef[uri=" + uri + "]";
    }
    int h = Arrays.hashCode(bytes);
    return "ImageRef[" + bytes.length + " bytes #" + HexFormat.of().toHexDigits(h) + (uri == null ? "" : ", uri=" + uri) + "]";
  }
}
