package io.perlspark.jobs.prepare;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import org.apache.hadoop.fs.Path;

/**
 * Resolves image paths against an image root and refuses those that escape it, lexically (the path
 * as written). Symbolic links are followed and checked where the file is read ({@code RecordConverter}).
 *
 * <p>Why the URI is built by hand: Hadoop's {@code Path(String)} passes the text to a URI constructor
 * that keeps {@code %hh} sequences as escapes, so a file literally named {@code %41.png} would be read
 * as {@code A.png} and {@code 100%.png} could fail to parse. Here every byte of a name that is not
 * an unreserved URI character is percent-encoded, so any Unicode (emoji included), spaces, {@code #},
 * {@code %} and {@code ?} name exactly the file they name, on every Hadoop file system.
 */
final class ImageRoot {
  private ImageRoot() {}

  /**
   * The resolved path when {@code relative} stays inside {@code root} after normalisation; empty for
   * absolute paths, URIs with a scheme, and {@code ..} that climbs out.
   *
   * @param root the image root as a URI string (see {@code PrepareJob.qualifiedImageRoot})
   */
  static Optional<Path> resolveInside(String root, String relative) {
    if (relative == null || relative.isBlank() || relative.startsWith("/") || relative.contains("\\")
        || relative.contains(":") || relative.indexOf('\0') >= 0) {
      return Optional.empty();
    }
    Deque<String> parts = new ArrayDeque<>();
    for (String segment : relative.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      if (segment.equals("..")) {
        if (parts.isEmpty()) {
          return Optional.empty();
        }
        parts.removeLast();
      } else {
        parts.addLast(segment);
      }
    }
    if (parts.isEmpty()) {
      return Optional.empty();
    }
    // ASCII form: a URI may carry non-ASCII characters raw, which java.nio's file URIs refuse.
    URI rootUri = URI.create(URI.create(root).normalize().toASCIIString());
    StringBuilder uri = new StringBuilder();
    if (rootUri.getScheme() != null) {
      uri.append(rootUri.getScheme()).append(':');
    }
    if (rootUri.getRawAuthority() != null) {
      uri.append("//").append(rootUri.getRawAuthority());
    } else if (rootUri.getScheme() != null) {
      uri.append("//");
    }
    String rootPath = rootUri.getRawPath();
    uri.append(rootPath.endsWith("/") ? rootPath : rootPath + "/");
    String sep = "";
    for (String part : parts) {
      uri.append(sep).append(encodeSegment(part));
      sep = "/";
    }
    return Optional.of(new Path(URI.create(uri.toString())));
  }

  /** Percent-encodes every UTF-8 byte of a path segment except RFC 3986's unreserved characters. */
  static String encodeSegment(String segment) {
    StringBuilder sb = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
          || c == '_' || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return sb.toString();
  }
}
