package io.perlspark.jobs.cli;

import io.perlspark.common.permute.DecaySchedule;
import io.perlspark.common.permute.Permuter;
import io.perlspark.common.permute.SlotSelection;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.spark.AtomicOutput;
import io.perlspark.jobs.spark.SparkSessions;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "permute", mixinStandardHelpOptions = true,
    description = {"Adds k image-permuted copies of each row of a prepared dataset.",
        "",
        "Offline permutation augmentation: each row becomes itself plus k copies with",
        "the images reordered, the text unchanged and the answer remapped, all sharing",
        "one group id."})
final class PermuteCommand implements Callable<Integer> {
  @Mixin SparkOptions spark;

  @Option(names = {"-i", "--input"}, required = true, description = "prepared (canonical) Parquet")
  String input;

  @Option(names = {"-o", "--out"}, required = true, description = "output folder")
  String out;

  @Option(names = {"-k", "--copies"}, defaultValue = "1", description = "permuted copies per sample (default: ${DEFAULT-VALUE})")
  int copies;

  @Option(names = "--slots", defaultValue = "all", description = "all | skip-first:N | list:i,j (0-based)")
  String slots;

  @Option(names = "--probability", defaultValue = "1.0", description = "probability that a sample gets its copies")
  double probability;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--step", defaultValue = "0", description = "the step whose permutations to draw (seeds them)")
  long step;

  @Option(names = "--overwrite")
  boolean overwrite;

  @Override
  public Integer call() {
    if (copies < 0) {
      throw new PerlUserException("--copies " + copies + ": must be >= 0");
    }
    if (!(probability >= 0 && probability <= 1)) {
      throw new PerlUserException("--probability " + probability + ": must be in [0, 1]");
    }
    SlotSelection slotSelection;
    try {
      slotSelection = SlotSelection.parse(slots);
    } catch (IllegalArgumentException e) {
      throw new PerlUserException("--slots " + slots + ": " + e.getMessage(), e);
    }
    Permuter permuter = Permuter.builder().setSeed(seed).optSlots(slotSelection).optCopies(copies)
        .optSchedule(DecaySchedule.constant(probability)).build();
    SparkSession session = SparkSessions.create("perl permute", spark.master);
    try {
      AtomicOutput output = AtomicOutput.begin(out, overwrite, session.sparkContext().hadoopConfiguration());
      try {
        String data = io.perlspark.jobs.data.DataPaths.resolve(input, session.sparkContext().hadoopConfiguration());
        if (data == null) {
          throw new PerlUserException("--input " + input + ": does not exist");
        }
        Dataset<Row> result = new PermutationTransform(permuter).transform(session, session.read().parquet(data), step, 1);
        result.write().parquet(output.staged("data"));
        output.commit();
      } catch (Throwable e) {
        // Throwable: a failed Spark job throws SparkException, which is no RuntimeException.
        output.abort();
        throw e;
      }
      long rows = session.read().parquet(out + "/data").count();
      System.out.println("wrote " + rows + " rows to " + out + "/data");
      return 0;
    } finally {
      session.stop();
    }
  }
}
