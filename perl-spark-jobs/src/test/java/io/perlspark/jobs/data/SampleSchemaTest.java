package io.perlspark.jobs.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.jobs.spark.SparkSessions;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleSchemaTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("SampleSchemaTest", "local[2]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void samplesRoundTripThroughParquet(@TempDir Path dir) {
    Sample a = new Sample("a", List.of(ImageRef.ofBytes(new byte[] {1, 2, 3}), ImageRef.of(new byte[] {4}, "x.png")),
        "a: <image> b: <image> which option ?", "B", AnswerKind.OPTION_LETTER, true, List.of(0, 1),
        "which_option", "synth", List.of("multi"));
    Sample b = new Sample("b", List.of(ImageRef.ofUri("img/1.png")), "<image> what shape ?", "circle",
        AnswerKind.TEXT, false, List.of(), "single", "synth", List.of("single"));
    Dataset<Row> df = spark.createDataFrame(
        List.of(SampleSchema.toRow(a, "<think> x </think> \\boxed{B}", 2), SampleSchema.toRow(b, null, null)),
        SampleSchema.SCHEMA);
    String out = dir.resolve("p").toString();
    df.write().parquet(out);
    List<Row> back = spark.read().parquet(out).orderBy("id").collectAsList();
    assertEquals(a, SampleSchema.fromRow(back.get(0)));
    assertEquals(b, SampleSchema.fromRow(back.get(1)));
    assertEquals("<think> x </think> \\boxed{B}", SampleSchema.response(back.get(0)));
    assertEquals(2, SampleSchema.answerPosition(back.get(0)));
    assertNull(SampleSchema.response(back.get(1)));
  }
}
