package io.perlspark.jobs.prepare;

import io.perlspark.common.data.ValidationLimits;
import java.util.List;

/**
 * What one {@code perl prepare} run does.
 *
 * @param inputs input files or folders (Parquet or JSONL)
 * @param format parquet, jsonl, or auto (by file extension)
 * @param imageRoot folder that relative image paths resolve against (may be null for embedded bytes)
 * @param output output folder: {@code data/} (canonical Parquet), {@code rejects/}, {@code summary.json}
 * @param shards number of Parquet files in {@code data/}
 * @param defaultAnswerKind answer kind for rows without one ({@code auto} infers it)
 * @param idFrom where row ids come from (see {@link IdFrom})
 */
public record PrepareOptions(
    List<String> inputs,
    String format,
    String imageRoot,
    String output,
    ColumnMapping mapping,
    ValidationLimits limits,
    ResizePolicy resize,
    int shards,
    String defaultAnswerKind,
    boolean overwrite,
    IdFrom idFrom) {

  /** Ids from the id column when the input has one, else from file and row. */
  public PrepareOptions(List<String> inputs, String format, String imageRoot, String output,
      ColumnMapping mapping, ValidationLimits limits, ResizePolicy resize, int shards,
      String defaultAnswerKind, boolean overwrite) {
    this(inputs, format, imageRoot, output, mapping, limits, resize, shards, defaultAnswerKind,
        overwrite, IdFrom.AUTO);
  }
}
