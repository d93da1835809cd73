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

  public RecordConverter(ColumnMapping mapping, ValidationLimits limits, ResizePolicy resize,
      String imageRoot, String defaultAnswerKind) {
    this.mapping = mapping;
    this.limits = limits;
    this.resize = resize;
    this.imageRoot = imageRoot;
    this.defaultAnswerKind = defaultAnswerKind;
  }

  /** The outcome for one row: exactly one of sample / rejection is set. */
  public record Outcome(Sample sample, String response, Rejection rejection) implements Serializable {
    static Outcome reject(String rowId, String file, RejectReason reason, String detail) {
      return new Outcome(null, null, new Rejection(rowId, file, reason, detail));
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

  public Outcome convert(Map<String, Object> rec, String sourceFile, long rowNumber, Configuration hadoop) {
    String rowId = "row " + rowNumber;
    try {
      Object idValue = rec.get(mapping.column("id"));
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
      List<ImageRef> images = images(rec, hadoop);
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
      return new Outcome(s, response, null);
    } catch (Bad b) {
      return Outcome.reject(rowId, sourceFile, b.reason, b.getMessage());
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
      out.add(String.valueOf(o));
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
      Optional<ImageChecks.Problem> problem = ImageChecks.check(bytes, limits);
      if (problem.isPresent()) {
        throw new Bad(problem.get().reason(), col + "[" + i + "]" + (path == null ? "" : " (" + path + ")") + ": " + problem.get().detail());
      }
      try {
        bytes = resize.apply(bytes);
      } catch (IOException | RuntimeException e) {
        throw new Bad(RejectReason.IMAGE_UNREADABLE, col + "[" + i + "]: cannot resize: " + e.getMessage());
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

  /** Reads an image by path relative to the image root, refusing any path that leaves the root. */
  private byte[] readImage(String path, Configuration hadoop, String col, int i) throws Bad {
    if (imageRoot == null) {
      throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] is a path (" + path + ") but no --image-root was given");
    }
    Path resolved = ImageRoot.resolveInside(imageRoot, path)
        .orElseThrow(() -> new Bad(RejectReason.IMAGE_PATH_OUTSIDE_ROOT, col + "[" + i + "] path '" + path + "' leaves the image root"));
    try {
      FileSystem fs = resolved.getFileSystem(hadoop);
      if (!fs.exists(resolved) || !fs.getFileStatus(resolved).isFile()) {
        throw new Bad(RejectReason.IMAGE_NOT_FOUND, col + "[" + i + "] " + path + " does not exist under the image root");
      }
      long len = fs.getFileStatus(resolved).getLen();
      if (len > limits.maxImageBytes()) {
        throw new Bad(RejectReason.IMAGE_TOO_LARGE, col + "[" + i + "] " + path + " is " + len + " bytes; limit " + limits.maxImageBytes());
      }
      try (FSDataInputStream in = fs.open(resolved)) {
        return readAll(in, (int) len);
      }
    } catch (IOException e) {
      throw new Bad(RejectReason.IMAGE_UNREADABLE, col + "[" + i + "] " + path + ": " + e.getMessage());
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
