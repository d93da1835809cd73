package io.perlspark.jobs.cli;

import io.perlspark.common.data.ValidationLimits;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.prepare.ColumnMapping;
import io.perlspark.jobs.prepare.IdFrom;
import io.perlspark.jobs.prepare.IncrementalSummary;
import io.perlspark.jobs.prepare.PrepareJob;
import io.perlspark.jobs.prepare.PrepareOptions;
import io.perlspark.jobs.prepare.PrepareSummary;
import io.perlspark.jobs.prepare.ResizePolicy;
import io.perlspark.jobs.spark.SparkSessions;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prepare", mixinStandardHelpOptions = true,
    description = {"Validates a dataset and writes it as canonical Parquet with a rejects table.",
        "",
        "Reads HF/EasyR1/verl Parquet or JSONL (also .jsonl.gz) with an image root,",
        "embeds and checks the images, and writes data/ (canonical sharded Parquet),",
        "rejects/ (row_id, row_number counted from 1, source_file, reason, detail),",
        "lineage/ (id, source file, row, content SHA-256) and summary.json. Every row",
        "read is kept or rejected with its reason. An input file that cannot be read,",
        "or a --map column the input does not have, stops the run (exit 2) before",
        "anything is written."})
final class PrepareCommand implements Callable<Integer> {
  private static final long MAX_IMAGE_BYTES = Integer.MAX_VALUE - 8;

  @Mixin SparkOptions spark;

  @Option(names = {"-i", "--input"}, required = true, split = ",", description = "input files or folders")
  List<String> inputs;

  @Option(names = {"-o", "--out"}, required = true,
      description = "output folder (data/, rejects/, summary.json; with --incremental data/batch=N/, rejects/batch=N/)")
  String out;

  @Option(names = "--format", defaultValue = "auto", description = "parquet | jsonl | auto (default: ${DEFAULT-VALUE})")
  String format;

  @Option(names = "--image-root", description = "folder that relative image paths resolve against")
  String imageRoot;

  @Option(names = "--map", split = ",", description = "column mapping FIELD=COLUMN, e.g. prompt=question")
  List<String> map;

  @Option(names = "--max-images", defaultValue = "" + ValidationLimits.DEFAULT_MAX_IMAGES)
  int maxImages;

  @Option(names = "--max-pixels", defaultValue = "" + ValidationLimits.DEFAULT_MAX_PIXELS,
      description = "largest width*height accepted (default: ${DEFAULT-VALUE})")
  long maxPixels;

  @Option(names = "--max-image-bytes", defaultValue = "" + ValidationLimits.DEFAULT_MAX_IMAGE_BYTES)
  long maxImageBytes;

  @Option(names = "--resize", defaultValue = "none",
      description = "none | fit:N: scale larger images down to N px; applied before --max-pixels (default: ${DEFAULT-VALUE})")
  String resize;

  @Option(names = "--max-prompt-chars", defaultValue = "" + ValidationLimits.DEFAULT_MAX_PROMPT_CHARS,
      description = "longest prompt in characters; longer ones are rejected as prompt_too_long (default: ${DEFAULT-VALUE})")
  int maxPromptChars;

  @Option(names = "--id-from", defaultValue = "auto",
      description = "where row ids come from (default: ${DEFAULT-VALUE}): auto = the id column when the input has one, "
          + "else row; column = the id column (--map id=COLUMN); row = <file>#<row> (the file's path below its input "
          + "folder, the 1-based row); content = sha256-<16 hex> of prompt, answer and images (exact copies become "
          + "duplicate_id). With column or row ids, exact copies under other ids are rejected as duplicate_content")
  String idFrom;

  @Option(names = "--answer-kind", defaultValue = "auto",
      description = "answer kind for rows without one: auto | option_letter | number | image_index | yes_no | text | ordering")
  String answerKind;

  @Option(names = "--shards", defaultValue = "4", description = "number of output Parquet files")
  int shards;

  @Option(names = "--overwrite", description = "replace an existing output folder")
  boolean overwrite;

  @Option(names = "--incremental", description = {"add to --out only the input files no earlier run prepared, as a new batch",
      "(data/batch=N/, rejects/batch=N/); a re-run without new files does nothing; a prepared file that",
      "changed is refused; an id kept by an earlier batch is rejected as duplicate_id"})
  boolean incremental;

  @Override
  public Integer call() {
    if (shards < 1) {
      throw new PerlUserException("--shards " + shards + ": must be >= 1");
    }
    if (!List.of("auto", "parquet", "jsonl").contains(format)) {
      throw new PerlUserException("--format " + format + ": allowed: auto, parquet, jsonl");
    }
    if (incremental && overwrite) {
      throw new PerlUserException("--incremental adds to --out and never replaces it; drop --overwrite "
          + "(to start over, prepare into a new folder)");
    }
    if (maxImageBytes > MAX_IMAGE_BYTES) {
      throw new PerlUserException("--max-image-bytes " + maxImageBytes + ": at most " + MAX_IMAGE_BYTES
          + " (an image is held in memory as one array)");
    }
    ValidationLimits limits;
    try {
      limits = ValidationLimits.defaults().withMaxImages(maxImages).withMaxPixels(maxPixels).withMaxImageBytes(maxImageBytes)
          .withMaxPromptChars(maxPromptChars);
    } catch (IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    PrepareOptions o = new PrepareOptions(inputs, format, imageRoot, out, ColumnMapping.parse(map), limits,
        ResizePolicy.parse(resize), shards, answerKind, overwrite, IdFrom.parse(idFrom));
    try (SparkSessions.Scoped session = SparkSessions.scoped("perl prepare", spark.master)) {
      if (incremental) {
        IncrementalSummary s = PrepareJob.runIncremental(session.session(), o);
        System.out.println(s.toText(out));
        return 0;
      }
      PrepareSummary s = PrepareJob.run(session.session(), o);
      System.out.println(s.toTable());
      System.out.println("wrote " + out + "/data, " + out + "/rejects and " + out + "/lineage");
      return 0;
    }
  }
}
