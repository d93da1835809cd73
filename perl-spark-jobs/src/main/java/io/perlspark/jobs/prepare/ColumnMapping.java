package io.perlspark.jobs.prepare;

import io.perlspark.jobs.PerlUserException;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which input column feeds which canonical field. Defaults follow the HF / EasyR1 / verl shape
 * ({@code images}, {@code problem}, {@code answer}, {@code data_source}); {@code --map prompt=question}
 * changes one.
 */
public final class ColumnMapping implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final List<String> FIELDS = List.of(
      "id", "images", "prompt", "answer", "answer_kind", "order_sensitive", "option_image_slots",
      "family", "data_source", "stage_tags", "response");

  private final Map<String, String> columns;
  /** Fields the user mapped with --map (their columns must exist in the input). */
  private final java.util.Set<String> explicit = new java.util.LinkedHashSet<>();

  private ColumnMapping(Map<String, String> columns) {
    this.columns = columns;
  }

  public static ColumnMapping defaults() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String f : FIELDS) {
      m.put(f, f);
    }
    m.put("prompt", "problem");
    return new ColumnMapping(m);
  }

  /** Applies {@code field=column} entries over the defaults; an unknown field is an error naming it. */
  public static ColumnMapping parse(List<String> entries) {
    ColumnMapping mapping = defaults();
    for (String e : entries == null ? List.<String>of() : entries) {
      int eq = e.indexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        throw new PerlUserException("--map " + e + ": expected FIELD=COLUMN, e.g. prompt=question");
      }
      String field = e.substring(0, eq).trim();
      if (!FIELDS.contains(field)) {
        throw new PerlUserException("--map " + e + ": unknown field '" + field + "'; fields: " + String.join(", ", FIELDS));
      }
      mapping.columns.put(field, e.substring(eq + 1).trim());
      mapping.explicit.add(field);
    }
    return mapping;
  }

  public String column(String field) {
    return columns.get(field);
  }

  /** The fields given with {@code --map}, in the order given. */
  public List<String> explicitFields() {
    return List.copyOf(explicit);
  }
}
