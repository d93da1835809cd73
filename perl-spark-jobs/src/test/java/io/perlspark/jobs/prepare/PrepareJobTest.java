package io.perlspark.jobs.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import io.perlspark.common.data.ValidationLimits;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.SparkSessions;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

class PrepareJobTest {
  static SparkSession spark;
  static final byte[] RED = TestImages.png(16, 16, Color.RED);
  static final byte[] BLUE = TestImages.png(20, 12, Color.BLUE);

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("PrepareJobTest", "local[2]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static PrepareOptions options(List<String> inputs, String imageRoot, Path out) {
    return new PrepareOptions(inputs, "auto", imageRoot, out.toString(), ColumnMapping.defaults(),
        ValidationLimits.defaults(), ResizePolicy.NONE, 2, "auto", false);
  }

  static Map<String, Row> rejectsById(Path out, String key) {
    Map<String, Row> m = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("rejects").toString()).collectAsList()) {
      m.put(String.valueOf((Object) r.getAs(key)), r);
    }
    return m;
  }

  /** HF / EasyR1 shape: images as list<struct<bytes, path>>, problem, answer, data_source. */
  @Test
  void hfStyleParquetIsPreparedAndBrokenRowsRejected(@TempDir Path dir) {
    StructType image = DataTypes.createStructType(List.of(
        DataTypes.createStructField("bytes", DataTypes.BinaryType, true),
        DataTypes.createStructField("path", DataTypes.StringType, true)));
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("images", DataTypes.createArrayType(image), true),
        DataTypes.createStructField("problem", DataTypes.StringType, true),
        DataTypes.createStructField("answer", DataTypes.StringType, true),
        DataTypes.createStructField("data_source", DataTypes.StringType, true)));
    List<Row> rows = new ArrayList<>();
    rows.add(hfRow("ok-1", List.of(RED, BLUE), "<image> <image> which one is red? A or B", "A", "mmiu"));
    rows.add(hfRow("ok-2", List.of(BLUE), "<image> how many shapes?", "3", "mmiu"));
    rows.add(hfRow("bad-placeholders", List.of(RED, BLUE), "<image> which is red?", "A", "mmiu"));
    rows.add(hfRow("bad-answer", List.of(RED), "<image> which is red?", "  ", "mmiu"));
    rows.add(hfRow("bad-image", List.of(RED, Arrays.copyOf(BLUE, 30)), "<image> <image> same?", "yes", "mmiu"));
    rows.add(hfRow("ok-1", List.of(RED), "<image> duplicate id", "no", "mmiu"));
    Path in = dir.resolve("hf");
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(in.toString());
    Path out = dir.resolve("out");

    PrepareSummary s = PrepareJob.run(spark, options(List.of(in.toString()), null, out));

    assertEquals(6, s.read());
    assertEquals(2, s.kept());
    assertEquals(s.read() + 1, s.kept() + s.rejected() + 1, "every row is kept or rejected");
    Map<String, Row> rejects = rejectsById(out, "row_id");
    assertEquals("placeholder_mismatch", rejects.get("bad-placeholders").getAs("reason"));
    assertEquals("empty_answer", rejects.get("bad-answer").getAs("reason"));
    assertEquals("image_unreadable", rejects.get("bad-image").getAs("reason"));
    assertEquals("duplicate_id", rejects.get("ok-1").getAs("reason"));
    assertEquals(6L, (long) rejects.get("ok-1").<Long>getAs("row_number"), "the later duplicate is the one rejected");

    Map<String, Sample> kept = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("data").toString()).collectAsList()) {
      kept.put(r.getString(0), SampleSchema.fromRow(r));
    }
    Sample ok1 = kept.get("ok-1");
    assertArrayEquals(RED, ok1.images().get(0).bytes());
    assertArrayEquals(BLUE, ok1.images().get(1).bytes());
    assertEquals(AnswerKind.OPTION_LETTER, ok1.answerKind());
    assertEquals(AnswerKind.NUMBER, kept.get("ok-2").answerKind());
    assertEquals("mmiu", ok1.dataSource());
    assertTrue(Files.exists(out.resolve("summary.json")));
  }

  private static Row hfRow(String id, List<byte[]> images, String problem, String answer, String source) {
    List<Row> imgs = new ArrayList<>();
    for (byte[] b : images) {
      imgs.add(RowFactory.create(b, null));
    }
    return RowFactory.create(id, CollectionConverters.asScala(imgs).toSeq(), problem, answer, source);
  }

  @Test
  void jsonlWithImageRootRejectsEachBrokenLineWithItsReason(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("images");
    Files.createDirectories(root.resolve("sub"));
    Files.write(root.resolve("a.png"), RED);
    Files.write(root.resolve("sub/b.png"), BLUE);
    Files.write(root.resolve("empty.png"), new byte[0]);
    Files.write(dir.resolve("secret.png"), RED);
    ByteArrayOutputStream lines = new ByteArrayOutputStream();
    String[] text = {
      "{\"id\":\"j1\",\"images\":[\"a.png\",\"sub/b.png\"],\"problem\":\"<image> <image> which image is blue?\",\"answer\":\"2\",\"answer_kind\":\"image_index\"}",
      "{\"id\":\"j2\",\"images\":[\"a.png\"],\"problem\":\"<image> broken json\"",
      "{\"id\":\"j3\",\"images\":[\"../secret.png\"],\"problem\":\"<image> escape\",\"answer\":\"x\"}",
      "{\"id\":\"j4\",\"images\":[\"missing.png\"],\"problem\":\"<image> missing\",\"answer\":\"x\"}",
      "{\"id\":\"j5\",\"images\":[\"empty.png\"],\"problem\":\"<image> empty\",\"answer\":\"x\"}",
      "{\"id\":\"j6\",\"images\":[\"a.png\"],\"problem\":\"<image> number answer\",\"answer\":3}",
      "{\"id\":\"j7\",\"images\":[\"a.png\"],\"answer\":\"x\"}",
      "[1, 2, 3]",
      "{\"id\":\"j9\",\"images\":[\"a.png\"],\"problem\":\"<image> which image?\",\"answer\":\"5\",\"answer_kind\":\"image_index\"}",
      "{\"id\":\"j10\",\"images\":[\"/etc/passwd\"],\"problem\":\"<image> absolute\",\"answer\":\"x\"}",
      "{\"id\":\"j11\",\"images\":[\"a.png\"],\"problem\":\"<image> bad kind\",\"answer\":\"x\",\"answer_kind\":\"colour\"}",
    };
    for (String t : text) {
      lines.write(t.getBytes(StandardCharsets.UTF_8));
      lines.write('\n');
    }
    lines.write(new byte[] {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'});
    Path jsonl = dir.resolve("data.jsonl");
    Files.write(jsonl, lines.toByteArray());
    Path out = dir.resolve("out");

    PrepareSummary s = PrepareJob.run(spark, options(List.of(jsonl.toString()), root.toString(), out));

    assertEquals(12, s.read());
    assertEquals(1, s.kept());
    assertEquals(11, s.rejected());
    Map<String, Row> byLine = rejectsById(out, "row_number");
    assertEquals("malformed_row", byLine.get("2").getAs("reason"));
    assertEquals("image_path_outside_root", byLine.get("3").getAs("reason"));
    assertEquals("image_not_found", byLine.get("4").getAs("reason"));
    assertEquals("image_empty", byLine.get("5").getAs("reason"));
    assertEquals("wrong_type", byLine.get("6").getAs("reason"));
    assertEquals("missing_field", byLine.get("7").getAs("reason"));
    assertEquals("malformed_row", byLine.get("8").getAs("reason"));
    assertEquals("answer_not_parseable", byLine.get("9").getAs("reason"));
    assertEquals("image_path_outside_root", byLine.get("10").getAs("reason"));
    assertEquals("bad_answer_kind", byLine.get("11").getAs("reason"));
    assertEquals("invalid_utf8", byLine.get("12").getAs("reason"));
    for (Row r : byLine.values()) {
      assertTrue(r.<String>getAs("source_file").endsWith("data.jsonl"));
      assertFalse(r.<String>getAs("detail").isBlank());
    }
    Row kept = spark.read().parquet(out.resolve("data").toString()).first();
    Sample j1 = SampleSchema.fromRow(kept);
    assertEquals("sub/b.png", j1.images().get(1).uri());
    assertArrayEquals(BLUE, j1.images().get(1).bytes());
  }

  @Test
  void existingOutputIsNotReplacedWithoutOverwrite(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    PerlUserException e = assertThrows(PerlUserException.class,
        () -> PrepareJob.run(spark, options(List.of(dir.toString()), null, out)));
    assertTrue(e.getMessage().contains("already exists"));
  }
}
