package io.perlspark.jobs.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.ValidationLimits;
import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.prepare.ColumnMapping;
import io.perlspark.jobs.prepare.PrepareJob;
import io.perlspark.jobs.prepare.PrepareOptions;
import io.perlspark.jobs.prepare.PrepareSummary;
import io.perlspark.jobs.prepare.ResizePolicy;
import io.perlspark.jobs.spark.SparkSessions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthJobTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("SynthJobTest", "local[2]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static List<Row> sorted(Dataset<Row> df) {
    return df.orderBy("id").collectAsList();
  }

  @Test
  void sameSeedGivesIdenticalRowsWhateverThePartitionCount(@TempDir Path dir) {
    SynthOptions o = SynthOptions.defaults().toBuilder().setFamilyWeights(SynthOptions.uniformFamilyWeights()).build();
    SynthJob.run(spark, o, 5, new SynthJob.Sizes(300, 90, 50), dir.resolve("a").toString(), 1, false);
    SynthJob.run(spark, o, 5, new SynthJob.Sizes(300, 90, 50), dir.resolve("b").toString(), 7, false);
    for (String split : List.of("train", "eval", "sft")) {
      List<Row> a = sorted(spark.read().parquet(dir.resolve("a/" + split).toString()));
      List<Row> b = sorted(spark.read().parquet(dir.resolve("b/" + split).toString()));
      assertEquals(a.size(), b.size());
      for (int i = 0; i < a.size(); i++) {
        assertEquals(SampleSchema.fromRow(a.get(i)), SampleSchema.fromRow(b.get(i)), split + " row " + i);
        assertEquals(SampleSchema.response(a.get(i)), SampleSchema.response(b.get(i)));
      }
    }
    Row sft = spark.read().parquet(dir.resolve("a/sft").toString()).first();
    assertNotNull(SampleSchema.response(sft));
    assertTrue(SampleSchema.response(sft).startsWith("<think>"));
    assertNull(SampleSchema.response(spark.read().parquet(dir.resolve("a/train").toString()).first()));
  }

  @Test
  void trainBiasMatchesItsFlagWithinSamplingError() {
    SynthOptions o = SynthOptions.defaults().toBuilder().setTrainPositionBias(0.8).build();
    long n = 4000;
    Dataset<Row> train = SynthJob.split(spark, new SyntheticBenchmark(o, 11), Split.TRAIN, n, 3);
    long first = train.filter("answer_position = 1").count();
    double share = first / (double) n;
    // Binomial sd at p=0.8, n=4000 is 0.0063; 4 sd = 0.025.
    assertEquals(0.8, share, 0.025, "share of answers at image 1");
    Dataset<Row> eval = SynthJob.split(spark, new SyntheticBenchmark(o, 11), Split.EVAL, 900, 3);
    Map<Integer, Long> byCount = new java.util.TreeMap<>();
    for (Row r : eval.groupBy("answer_position").count().collectAsList()) {
      byCount.put(r.getInt(0), r.getLong(1));
    }
    // Balanced eval: 2-4 images, 100 per (count, position) cell: positions 1,2 have 300, 3 has 200, 4 has 100.
    assertEquals(Map.of(1, 300L, 2, 300L, 3, 200L, 4, 100L), byCount);
  }

  @Test
  void prepareRoundTripsASynthSplit(@TempDir Path dir) {
    SynthOptions o = SynthOptions.defaults().toBuilder().setFamilyWeights(SynthOptions.uniformFamilyWeights()).build();
    SynthJob.run(spark, o, 3, new SynthJob.Sizes(400, 0, 0), dir.resolve("synth").toString(), 2, false);
    PrepareSummary s = PrepareJob.run(spark, new PrepareOptions(List.of(dir.resolve("synth/train").toString()), "parquet",
        null, dir.resolve("prepared").toString(), ColumnMapping.defaults(), ValidationLimits.defaults(), ResizePolicy.NONE,
        2, "auto", false));
    assertEquals(400, s.read());
    assertEquals(400, s.kept(), "every synthetic row is valid: " + s.rejectedByReason());
    List<Row> before = sorted(spark.read().parquet(dir.resolve("synth/train").toString()));
    List<Row> after = sorted(spark.read().parquet(dir.resolve("prepared/data").toString()));
    for (int i = 0; i < before.size(); i++) {
      assertEquals(SampleSchema.fromRow(before.get(i)), SampleSchema.fromRow(after.get(i)));
    }
  }
}
