package io.perlspark.jobs.cli;

import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.synth.SynthJob;
import io.perlspark.jobs.spark.SparkSessions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
    description = {"Writes the built-in synthetic multi-image benchmark as canonical Parquet.",
        "",
        "Coloured shapes in a position-biased train split, a balanced eval split and an",
        "SFT slice with reasoning traces."})
final class SynthCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder (train/, eval/, sft/)")
  String out;

  @Option(names = "--train", defaultValue = "5000", description = "train rows (default: ${DEFAULT-VALUE})")
  long train;

  @Option(names = "--eval", defaultValue = "900", description = "eval rows; a multiple of the balanced cell count (default: ${DEFAULT-VALUE})")
  long eval;

  @Option(names = "--sft", defaultValue = "5000", description = "SFT rows (default: ${DEFAULT-VALUE})")
  long sft;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--bias", defaultValue = "0.6",
      description = "share of image-answer train/SFT samples whose answer image is first (default: ${DEFAULT-VALUE})")
  double bias;

  @Option(names = "--families", split = ",",
      description = "family weights NAME=W: which_image, which_option, count, order, attribute_at, single (default: which_image=1)")
  List<String> families;

  @Option(names = "--image-size", defaultValue = "24")
  int imageSize;

  @Option(names = "--min-images", defaultValue = "2")
  int minImages;

  @Option(names = "--max-images", defaultValue = "4")
  int maxImages;

  @Option(names = "--fixed-images", description = "every multi-image sample has exactly this many images")
  Integer fixedImages;

  @Option(names = "--distractor-similarity", defaultValue = "0.7",
      description = "probability a distractor shares one attribute with the target (default: ${DEFAULT-VALUE})")
  double similarity;

  @Option(names = "--partitions", defaultValue = "4")
  int partitions;

  @Option(names = "--overwrite")
  boolean overwrite;

  /** Parses {@code --families NAME=W,...} (a bare NAME has weight 1). */
  static Map<String, Double> familyWeights(List<String> families) {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String f : families) {
      String[] kv = f.split("=", 2);
      try {
        weights.put(kv[0].trim(), kv.length == 2 ? Double.parseDouble(kv[1]) : 1.0);
      } catch (NumberFormatException e) {
        throw new PerlUserException("--families " + f + ": the weight is not a number");
      }
    }
    return weights;
  }

  @Override
  public Integer call() {
    SynthOptions options;
    try {
      SynthOptions.Builder b = SynthOptions.defaults().toBuilder().setImageSize(imageSize)
          .setImageCountRange(minImages, maxImages).optFixedImageCount(fixedImages)
          .setDistractorSimilarity(similarity).setTrainPositionBias(bias);
      if (families != null && !families.isEmpty()) {
        b.setFamilyWeightsByName(familyWeights(families));
      }
      options = b.build();
    } catch (IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    if (partitions < 1) {
      throw new PerlUserException("--partitions " + partitions + ": must be >= 1");
    }
    SparkSession session = SparkSessions.create("perl synth", spark.master);
    try {
      long t0 = System.nanoTime();
      Map<String, Long> written = SynthJob.run(session, options, seed, new SynthJob.Sizes(train, eval, sft), out,
          partitions, overwrite);
      written.forEach((split, rows) -> System.out.printf("%-6s %,8d rows -> %s/%s%n", split, rows, out, split));
      System.out.printf("done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      return 0;
    } finally {
      session.stop();
    }
  }
}
