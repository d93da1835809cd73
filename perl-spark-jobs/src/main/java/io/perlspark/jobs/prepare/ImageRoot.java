package io.perlspark.jobs.prepare;

import java.net.URI;
import java.util.Optional;
import org.apache.hadoop.fs.Path;

/**
 * Resolves image paths against an image root and refuses those that escape it, lexically (the path
 * as written). Symbolic links are followed and checked where the file is read ({@code RecordConverter}).
 */
final class ImageRoot {
  private ImageRoot() {}

  /**
   * The resolved path when {@code relative} stays inside {@code root} after normalisation; empty for
   * absolute paths, URIs with a scheme, and {@code ..} that climbs out.
   */
  static Optional<Path> resolveInside(String root, String relative) {
    if (relative == null || relative.isBlank() || relative.startsWith("/") || relative.contains("\\")
        || relative.contains(":") || relative.indexOf('\0') >= 0) {
      return Optional.empty();
    }
    URI rootUri = new Path(root).toUri().normalize();
    String rootPath = rootUri.getPath().endsWith("/") ? rootUri.getPath() : rootUri.getPath() + "/";
    String joined = URI.create("x:" + rootPath).resolve(encode(relative)).normalize().getSchemeSpecificPart();
    if (!joined.startsWith(rootPath) || joined.equals(rootPath)) {
      return Optional.empty();
    }
    String scheme = rootUri.getScheme();
    String authority = rootUri.getAuthority();
    String prefix = scheme == null ? "" : scheme + "://" + (authority == null ? "" : authority);
    return Optional.of(new Path(prefix + joined));
  }

  /** Percent-encodes only what URI parsing would reject, keeping '/' and '..' meaningful. */
  private static String encode(String p) {
    StringBuilder sb = new StringBuilder();
    for (char c : p.toCharArray()) {
      if (c == ' ' || c == '%' || c == '#' || c == '?' || c == '[' || c == ']' || c > 126 || c < 32) {
        for (byte b : String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
          sb.append('%').append(String.format("%02X", b));
        }
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
