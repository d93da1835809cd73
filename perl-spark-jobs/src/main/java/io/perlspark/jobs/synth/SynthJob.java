package io.perlspark.jobs.synth;

import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.AtomicOutput;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code perl synth}: writes the synthetic multi-image benchmark as canonical Parquet, one folder per
 * split ({@code train}, {@code eval}, {@code sft}). Row i of a split depends only on (seed, split, i),
 * so the output is the same for any number of partitions or executors.
 */
public final class SynthJob {
  private SynthJob() {}

  /** Rows per split; a split with 0 rows is not written. */
  public record Sizes(long train, long eval, long sft) {}

  public static Map<String, Long> run(SparkSession spark, SynthOptions options, long seed, Sizes sizes, String out,
      int partitions, boolean overwrite) {
    AtomicOutput output = AtomicOutput.begin(out, overwrite, spark.sparkContext().hadoopConfiguration());
    Map<String, Long> written = new LinkedHashMap<>();
    try {
      SyntheticBenchmark bench = new SyntheticBenchmark(options, seed);
      for (Map.Entry<Split, Long> e : Map.of(Split.TRAIN, sizes.train(), Split.EVAL, sizes.eval(), Split.SFT, sizes.sft()).entrySet()) {
        if (e.getValue() <= 0) {
          continue;
        }
        String name = e.getKey().name().toLowerCase(Locale.ROOT);
        split(spark, bench, e.getKey(), e.getValue(), partitions).write().parquet(output.staged(name));
        written.put(name, e.getValue());
      }
      output.commit();
      return written;
    } catch (Throwable e) {
      // Throwable: a failed Spark job throws SparkException, which is no RuntimeException.
      output.abort();
      throw e;
    }
  }

  /** One split as a DataFrame of the canonical schema (SFT rows carry their reference response). */
  public static Dataset<Row> split(SparkSession spark, SyntheticBenchmark bench, Split split, long rows, int partitions) {
    JavaRDD<Row> rdd = spark.range(0, rows, 1, partitions).javaRDD().map(i -> {
      SynthItem item = bench.generate(split, i);
      Integer position = item.answerPosition() > 0 ? item.answerPosition() : null;
      return SampleSchema.toRow(item.sample(), split == Split.SFT ? item.referenceResponse() : null, position);
    });
    return spark.createDataFrame(rdd, SampleSchema.SCHEMA);
  }
}
