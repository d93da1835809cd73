package io.perlspark.jobs.prepare;

import io.perlspark.jobs.PerlUserException;
import java.util.Locale;

/**
 * Where a prepared row's id comes from ({@code perl prepare --id-from}).
 *
 * <ul>
 *   <li>{@code auto} (default): the id column when the input has one, else {@code row}.
 *   <li>{@code column}: the id column (mapped with {@code --map id=COLUMN}); a row without a value is
 *       rejected as {@code missing_field}.
 *   <li>{@code row}: {@code <file>#<row>}, the file's path relative to the input folder it was listed
 *       under (its name when the file was named directly) and the 1-based row number: stable across
 *       runs and partitionings, and it says where the row came from.
 *   <li>{@code content}: {@code sha256-} and the first 16 hex digits of the SHA-256 of the prompt, the
 *       answer and the image bytes; an exact duplicate row then has the same id and is rejected as
 *       {@code duplicate_id}.
 * </ul>
 *
 * <p>With ids from a column or from the row, exact content duplicates are still found and rejected as
 * {@code duplicate_content}: a duplicated row would silently double its weight in training.
 */
public enum IdFrom {
  AUTO,
  COLUMN,
  ROW,
  CONTENT;

  public static IdFrom parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new PerlUserException("--id-from " + s + ": allowed: auto, column, row, content");
    }
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
