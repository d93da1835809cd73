package io.perlspark.jobs.prepare;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageChecks;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.RejectReason;
import io.perlspark.common.data.Rejection;
import io.perlspark.common.data.Sample;
import io.perlspark.common.data.SampleValidator;
import io.perlspark.common.data.ValidationLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Turns one input record (a JSON object or a Parquet row, already as plain Java maps and lists) into
 * a validated canonical {@link Sample} with its image bytes embedded, or into a {@link Rejection}
 * that names the row, the file and the reason. Runs on executors.
 */
public final class RecordConverter implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern NUMBER = Pattern.compile("[-+]?\\d+(\\.\\d+)?(/\\d+)?");
  private static final Pattern LETTER = Pattern.compile("[A-Za-z]");

  private final ColumnMapping mapping;
  private final ValidationLimits limits;
  private final ResizePolicy resize;
  private final String imageRoot;
  private final String defaultAnswerKind;
  private final IdFrom idFrom;

  /** @param idFrom where ids come from: {@link IdFrom#COLUMN}, {@link IdFrom#ROW} or {@link IdFrom#CONTENT} */
  public RecordConverter(ColumnMapping mapping, ValidationLimits limits, ResizePolicy resize,
      String imageRoot, String defaultAnswerKind, IdFrom idFrom) {
    if (idFrom == IdFrom.AUTO) {
      throw new IllegalArgumentException("resolve --id-from auto against the input before converting rows");
    }
    this.mapping = mapping;
    this.limits = limits;
    this.resize = resize;
    this.imageRoot = imageRoot;
    this.defaultAnswerKind = defaultAnswerKind;
    this.idFrom = idFrom;
  }

  /**
   * The outcome for one row: exactly one of sample / rejection is set; a kept row also carries the
   * hex SHA-256 of its content (prompt, answer, image bytes), by which exact duplicates are found.
   */
  public record Outcome(Sample sample, String response, Rejection rejection, String contentHash)
      implements Serializable {
    static Outcome reject(String rowId, String file, RejectReason reason, String detail) {
      return new Outcome(null, null, new Rejection(rowId, file, reason, detail), null);
    }
  }

  /** A converter failure carrying its reject reason. */
  static final class Bad extends Exception {
    private static final long serialVersionUID = 1L;
    final RejectReason reason;

    Bad(RejectReason reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }
  }

  /**
   * @param fileKey the file's name relative to its input (see {@link InputFiles.InputFile#key}), for ids
   *     derived from the row
   * @param rowNumber 1-based row (JSONL: physical line) number in the file
   */
  public Outcome convert(Map<String, Object> rec, String sourceFile, String fileKey, long rowNumber,
      Configuration hadoop) {
    String rowId = idFrom == IdFrom.ROW ? rowId(fileKey, rowNumber) : "row " + rowNumber;
    try {
      Object idValue = idFrom == IdFrom.COLUMN ? rec.get(mapping.column("id")) : rowId;
      if (idValue != null && !(idValue instanceof String) && !isInteger(idValue)) {
        // String.valueOf of a list, an object or 1.5 would make up an id nobody can look up.
        throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column("id") + "' (id) must be a string or an integer, got "
            + typeName(idValue) + " " + idValue);
      }
      String id = idValue == null ? null : String.valueOf(idValue);
      if (id != null) {
        rowId = id;
      }
      if (id == null || id.isBlank()) {
        throw new Bad(RejectReason.MISSING_FIELD, "no '" + mapping.column("id") + "' (id) value");
      }
      String prompt = requiredString(rec, "prompt");
      String answer = requiredString(rec, "answer");
      AnswerKind kind = answerKind(rec, answer);
      boolean orderSensitive = orderSensitive(rec, kind);
      List<Integer> optionSlots = intList(rec, "option_image_slots");
      List<String> tags = stringList(rec, "stage_tags");
      String family = optionalString(rec, "family");
      String source = optionalString(rec, "data_source");
      String response = optionalString(rec, "response");
      checkUnicode("id", id);
      checkUnicode("prompt", prompt);
      checkUnicode("answer", answer);
      checkUnicode("family", family);
      checkUnicode("data_source", source);
      checkUnicode("response", response);
      for (String tag : tags) {
        checkUnicode("stage_tags", tag);
      }
      List<ImageRef> images = images(rec, hadoop);
      for (ImageRef img : images) {
        checkUnicode("images", img.uri());
      }
      String contentHash = contentHash(prompt, answer.trim(), images);
      if (idFrom == IdFrom.CONTENT) {
        id = "sha256-" + contentHash.substring(0, 16);
        rowId = id;
      }
      Sample s = new Sample(id, images, prompt, answer.trim(), kind, orderSensitive, optionSlots, family,
          source, tags);
      List<Rejection> problems = SampleValidator.validate(s, limits, sourceFile, rowId);
      if (!problems.isEmpty()) {
        Rejection first = problems.get(0);
        StringBuilder detail = new StringBuilder(first.detail());
        for (int i = 1; i < problems.size(); i++) {
          detail.append("; ").append(problems.get(i).reason().wireName()).append(": ").append(problems.get(i).detail());
        }
        return Outcome.reject(rowId, sourceFile, first.reason(), detail.toString());
      }
      return new Outcome(s, response, null, contentHash);
    } catch (Bad b) {
      return Outcome.reject(rowId, sourceFile, b.reason, b.getMessage());
    }
  }

  /** The id of a row under {@code --id-from row}: {@code <file key>#<1-based row>}. */
  static String rowId(String fileKey, long rowNumber) {
    return fileKey + "#" + rowNumber;
  }

  /**
   * Hex SHA-256 over the prompt, the (trimmed) answer and each image's bytes, each length-prefixed so
   * that no two different rows can encode alike. Ids and other metadata are left out: two rows that
   * train the model identically are duplicates whatever they are called.
   */
  static String contentHash(String prompt, String answer, List<ImageRef> images) {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8);
      for (byte[] part : new byte[][] {prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          answer.getBytes(java.nio.charset.StandardCharsets.UTF_8)}) {
        md.update(len.clear().putLong(part.length).array());
        md.update(part);
      }
      md.update(len.clear().putLong(images.size()).array());
      for (ImageRef img : images) {
        md.update(len.clear().putLong(img.bytes().length).array());
        md.update(img.bytes());
      }
      return java.util.HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }

  private static boolean isInteger(Object v) {
    return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
        || v instanceof java.math.BigInteger;
  }

  /**
   * Refuses text with an unpaired UTF-16 surrogate (JSON lets an escape spell one alone, e.g. a lone
   * high surrogate D800): it has no UTF-8 form, and Parquet would store a {@code ?} in its place.
   */
  private void checkUnicode(String field, String value) throws Bad {
    if (value == null) {
      return;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new Bad(RejectReason.INVALID_UTF8, "'" + mapping.column(field) + "' (" + field + ") has an unpaired surrogate "
            + String.format("\\u%04X", (int) c) + " at character " + i + "; text must be valid Unicode to be stored as UTF-8");
      }
    }
  }

  private String requiredString(Map<String, Object> rec, String field) throws Bad {
    String col = mapping.column(field);
    Object v = rec.get(col);
    if (v == null) {
      throw new Bad(RejectReason.MISSING_FIELD, "no '" + col + "' (" + field + ") value");
    }
    if (!(v instanceof String s)) {
      throw new Bad(RejectReason.WRONG_TYPE, "'" + col + "' (" + field + ") must be a string, got " + typeName(v));
    }
    if (s.isBlank()) {
      throw new Bad(field.equals("answer") ? RejectReason.EMPTY_ANSWER : RejectReason.EMPTY_PROMPT,
          "'" + col + "' (" + field + ") is empty");
    }
    return s;
  }

  private String optionalString(Map<String, Object> rec, String field) throws Bad {
    Object v = rec.get(mapping.column(field));
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column(field) + "' (" + field + ") must be a string, got " + typeName(v));
    }
    return s;
  }

  private AnswerKind answerKind(Map<String, Object> rec, String answer) throws Bad {
    Object v = rec.get(mapping.column("answer_kind"));
    String kind = v == null ? defaultAnswerKind : String.valueOf(v);
    if (kind.equals("auto")) {
      return inferKind(answer.trim());
    }
    try {
      return AnswerKind.parse(kind);
    } catch (IllegalArgumentException e) {
      throw new Bad(RejectReason.BAD_ANSWER_KIND, e.getMessage());
    }
  }

  /**
   * Without an answer-kind column: a single letter is an option letter, a number is a number, yes/no
   * is yes/no, anything else is short text. Image indices and orderings cannot be told from a number
   * or text by looking, so datasets that have them should carry an answer_kind column.
   */
  static AnswerKind inferKind(String answer) {
    if (LETTER.matcher(answer).matches()) {
      return AnswerKind.OPTION_LETTER;
    }
    if (NUMBER.matcher(answer).matches()) {
      return AnswerKind.NUMBER;
    }
    String lower = answer.toLowerCase(Locale.ROOT);
    if (lower.equals("yes") || lower.equals("no")) {
      return AnswerKind.YES_NO;
    }
    return AnswerKind.TEXT;
  }

  private boolean orderSensitive(Map<String, Object> rec, AnswerKind kind) throws Bad {
    Object v = rec.get(mapping.column("order_sensitive"));
    if (v == null) {
      // Without the label: answers that name images change with the order, others do not.
      return kind == AnswerKind.IMAGE_INDEX || kind == AnswerKind.ORDERING;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column("order_sensitive") + "' must be true/false, got " + typeName(v));
  }

  private List<Integer> intList(Map<String, Object> rec, String field) throws Bad {
    Object v = rec.get(mapping.column(field));
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column(field) + "' must be a list of integers, got " + typeName(v));
    }
    List<Integer> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
        throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column(field) + "' must be a list of integers, got element " + o);
      }
      out.add(n.intValue());
    }
    return out;
  }

  private List<String> stringList(Map<String, Object> rec, String field) throws Bad {
    Object v = rec.get(mapping.column(field));
    if (v == null) {
      return List.of();
    }
    if (v instanceof String s) {
      return List.of(s);
    }
    if (!(v instanceof List<?> list)) {
      throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column(field) + "' must be a list of strings, got " + typeName(v));
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof String str)) {
        throw new Bad(RejectReason.WRONG_TYPE, "'" + mapping.column(field) + "' must be a list of strings, got element "
            + typeName(o) + " " + o);
      }
      out.add(str);
    }
    return out;
  }

  /**
   * Images as the peers store them: a list of {bytes, path} structs, of paths, or of base64 strings
   * prefixed {@code base64:}; a single struct, path or binary value is a list of one.
   */
  private List<ImageRef> images(Map<String, Object> rec, Configuration hadoop) throws Bad {
    String col = mapping.column("images");
    Object v = rec.get(col);
    if (v == null) {
      return List.of();
    }
    List<?> items = v instanceof List<?> l ? l : List.of(v);
    List<ImageRef> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      Object item = items.get(i);
      byte[] bytes = null;
      String path = null;
      if (item instanceof Map<?, ?> m) {
        Object b = m.get("bytes");
        Object p = m.get("path");
        if (b != null && !(b instanceof byte[]) && !(b instanceof String)) {
          throw new Bad(RejectReason.WRONG_TYPE, col + "[" + i + "].bytes must be binary, got " + typeName(b));
        }
        bytes = b instanceof String s ? decodeBase64(s, col, i) : (byte[]) b;
        path = p == null ? null : String.valueOf(p);
      } else if (item instanceof byte[] b) {
        bytes = b;
      } else if (item instanceof String s) {
        if (s.startsWith("base64:")) {
          bytes = decodeBase64(s.substring(7), col, i);
        } else {
          path = s;
        }
      } else {
        throw new Bad(RejectReason.WRONG_TYPE, col + "[" + i + "] must be a {bytes, path} struct, a path or binary, got " + typeName(item));
      }
      if (bytes == null && (path == null || path.isBlank())) {
        throw new Bad(RejectReason.MISSING_FIELD, col + "[" + i + "] has neither bytes nor path");
      }
      if (bytes == null) {
        bytes = readImage(path, hadoop, col, i);
      }
      String where = col + "[" + i + "]" + (path == null ? "" : " (" + path + ")");
      // --resize comes before --max-pixels: an image that fits once scaled down is kept. Before the
      // resize only the decode ceiling applies (a decompression bomb is still refused from its header).
      Optional<ImageChecks.Problem> problem = ImageChecks.check(bytes, resize.decodeLimits(limits));
      if (problem.isPresent()) {
        throw new Bad(problem.get().reason(), where + ": " + problem.get().detail()
            + (resize.isNone() ? "" : " (before --resize)"));
      }
      if (!resize.isNone()) {
        try {
          bytes = resize.apply(bytes);
        } catch (IOException | RuntimeException e) {
          throw new Bad(RejectReason.IMAGE_UNREADABLE, where + ": cannot resize: " + e.getMessage());
        }
        problem = ImageChecks.check(bytes, limits);
        if (problem.isPresent()) {
          throw new Bad(problem.get().reason(), where + ": " + problem.get().detail() + " (after --resize " + resize + ")");
        }
      }
      out.add(ImageRef.of(bytes, path));
    }
    return out;
  }

  private static byte[] decodeBase64(String s, String col, int i) throws Bad {
    try {
      return Base64.getDecoder().decode(s.trim());
    } catch (IllegalArgumentException e) {
      throw new Bad(RejectReason.WRONG_TYPE, col + "[" + i + "] is not valid base64");
    }
  }

  /**
   * Reads an image by path relative to the image root, refusing any path that leaves the root. The
   * path is checked as written ({@link ImageRoot}) and, on a local file system, once more after
   * following symbolic links: a link inside the root that points outside it is refused too.
   */
  private byte[] readImage(String path, Configuration hadoop, String col, int i) throws Bad {
    if (imageRoot == null) {
      throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] is a path (" + path + ") but no --image-root was given");
    }
    Path resolved = ImageRoot.resolveInside(imageRoot, path)
        .orElseThrow(() -> new Bad(RejectReason.IMAGE_PATH_OUTSIDE_ROOT, col + "[" + i + "] path '" + path + "' leaves the image root"));
    try {
      FileSystem fs = resolved.getFileSystem(hadoop);
      if ("file".equals(fs.getScheme())) {
        return readLocal(fs, resolved, path, col, i);
      }
      // HDFS has symbolic links switched off by default and object stores have none: the lexical check suffices.
      if (!fs.exists(resolved)) {
        throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] " + path + " does not exist under the image root");
      }
      FileStatus st = fs.getFileStatus(resolved);
      if (!st.isFile()) {
        throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] " + path + " is not a file");
      }
      checkLength(st.getLen(), path, col, i);
      try (FSDataInputStream in = fs.open(resolved)) {
        return readAll(in, (int) st.getLen());
      }
    } catch (IOException e) {
      throw new Bad(RejectReason.IMAGE_UNREADABLE, col + "[" + i + "] " + path + ": " + e.getMessage());
    }
  }

  private byte[] readLocal(FileSystem fs, Path resolved, String path, String col, int i) throws Bad, IOException {
    java.nio.file.Path file;
    try {
      // resolved.toUri() as built by ImageRoot, not makeQualified(): Hadoop re-parses the path as a
      // string there, and a name like "100%.png" then fails with "Bad escape".
      file = java.nio.file.Path.of(resolved.toUri()).toRealPath();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] " + path + " does not exist under the image root"
          + " (or is a link to nothing)");
    }
    if (!file.startsWith(realRoot(fs))) {
      throw new Bad(RejectReason.IMAGE_PATH_OUTSIDE_ROOT, col + "[" + i + "] path '" + path
          + "' goes through a symbolic link to a file outside the image root");
    }
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] " + path + " is not a file");
    }
    checkLength(java.nio.file.Files.size(file), path, col, i);
    // Read the checked real path, so that a link swapped after the check cannot redirect the read.
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limits.maxImageBytes() + 1));
    }
  }

  private transient java.nio.file.Path realRoot;

  private java.nio.file.Path realRoot(FileSystem fs) throws IOException {
    if (realRoot == null) {
      // The root is qualified already (PrepareJob.qualifiedImageRoot); makeQualified would re-parse it.
      realRoot = java.nio.file.Path.of(java.net.URI.create(java.net.URI.create(imageRoot).toASCIIString())).toRealPath();
    }
    return realRoot;
  }

  private void checkLength(long len, String path, String col, int i) throws Bad {
    if (len > limits.maxImageBytes()) {
      throw new Bad(RejectReason.IMAGE_TOO_LARGE, col + "[" + i + "] " + path + " is " + len + " bytes; limit " + limits.maxImageBytes());
    }
  }

  private static byte[] readAll(InputStream in, int len) throws IOException {
    byte[] buf = new byte[len];
    int off = 0;
    while (off < len) {
      int n = in.read(buf, off, len - off);
      if (n < 0) {
        break;
      }
      off += n;
    }
    return off == len ? buf : java.util.Arrays.copyOf(buf, off);
  }

  static String typeName(Object v) {
    if (v instanceof String) {
      return "text";
    }
    if (v instanceof Number) {
      return "number";
    }
    if (v instanceof Boolean) {
      return "boolean";
    }
    if (v instanceof List) {
      return "list";
    }
    if (v instanceof Map) {
      return "object";
    }
    return v.getClass().getSimpleName();
  }

}
