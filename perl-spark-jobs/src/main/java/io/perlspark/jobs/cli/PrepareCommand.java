package io.perlspark.jobs.cli;

import io.perlspark.common.data.ValidationLimits;
import io.perlspark.jobs.prepare.ColumnMapping;
import io.perlspark.jobs.prepare.PrepareJob;
import io.perlspark.jobs.prepare.PrepareOptions;
import io.perlspark.jobs.prepare.PrepareSummary;
import io.perlspark.jobs.prepare.ResizePolicy;
import io.perlspark.jobs.spark.SparkSessions;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prepare", mixinStandardHelpOptions = true,
    description = {"Validate a multi-image dataset (HF/EasyR1/verl Parquet, or JSONL + image root),",
        "embed and check its images, and write canonical sharded Parquet plus a rejects table."})
final class PrepareCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;

  @Option(names = {"-i", "--input"}, required = true, split = ",", description = "input files or folders")
  List<String> inputs;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder (data/, rejects/, summary.json)")
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

  @Option(names = "--resize", defaultValue = "none", description = "none | fit:N (scale larger images down to N px)")
  String resize;

  @Option(names = "--answer-kind", defaultValue = "auto",
      description = "answer kind for rows without one: auto | option_letter | number | image_index | yes_no | text | ordering")
  String answerKind;

  @Option(names = "--shards", defaultValue = "4", description = "number of output Parquet files")
  int shards;

  @Option(names = "--overwrite", description = "replace an existing output folder")
  boolean overwrite;

  @Override
  public Integer call() {
    if (shards < 1) {
      throw new PerlUserException("--shards " + shards + ": must be >= 1");
    }
    if (!List.of("auto", "parquet", "jsonl").contains(format)) {
      throw new PerlUserException("--format " + format + ": allowed: auto, parquet, jsonl");
    }
    ValidationLimits limits;
    try {
      limits = ValidationLimits.defaults().withMaxImages(maxImages).withMaxPixels(maxPixels).withMaxImageBytes(maxImageBytes);
    } catch (IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    PrepareOptions o = new PrepareOptions(inputs, format, imageRoot, out, ColumnMapping.parse(map), limits,
        ResizePolicy.parse(resize), shards, answerKind, overwrite);
    SparkSession session = SparkSessions.create("perl prepare", spark.master);
    try {
      PrepareSummary s = PrepareJob.run(session, o);
      System.out.println(s.toTable());
      System.out.println("wrote " + out + "/data and " + out + "/rejects");
      return 0;
    } finally {
      session.stop();
    }
  }
}
