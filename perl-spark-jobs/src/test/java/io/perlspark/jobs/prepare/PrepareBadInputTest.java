package io.perlspark.jobs.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.SparkSessions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code perl prepare} on the bad-input corpus (src/test/resources/bad-input, see its README): every
 * bad row is rejected with its reason, every good row comes through unchanged, nothing is dropped,
 * and no stack trace reaches the user.
 */
class PrepareBadInputTest {
  static SparkSession spark;
  @TempDir static Path dir;
  static Path corpus;
  static final AtomicInteger failedTasks = new AtomicInteger();

  /** input file:line -> reject reason, as in the corpus README. */
  static final Map<String, String> EXPECTED_REJECTS = new TreeMap<>();
  static final List<String> GOOD = List.of("01-good.jsonl:1", "01-good.jsonl:2", "01-good.jsonl:3", "01-good.jsonl:4",
      "01-good.jsonl:5", "01-good.jsonl:6", "01-good.jsonl:7", "01-good.jsonl:8", "02-bom-crlf.jsonl:1",
      "02-bom-crlf.jsonl:3", "08-paths.jsonl:6", "08-paths.jsonl:9", "09-duplicates.jsonl:2", "09-duplicates.jsonl:5",
      "14-odd-names.jsonl:1", "14-odd-names.jsonl:2", "14-odd-names.jsonl:3", "14-odd-names.jsonl:4",
      "14-odd-names.jsonl:5", "14-odd-names.jsonl:6", "14-odd-names.jsonl:7", "15-compressed.jsonl.gz:1");

  static {
    reasons("03-malformed.jsonl", "malformed_row", 1, 2, 3, 4, 5, 6, 7, 8, 9);
    reasons("04-types.jsonl", "wrong_type", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    reasons("04-types.jsonl", "missing_field", 12, 13, 14, 15, 16, 17);
    reasons("05-answers.jsonl", "empty_answer", 1, 2);
    reasons("05-answers.jsonl", "empty_prompt", 3);
    reasons("05-answers.jsonl", "answer_not_parseable", 4, 5);
    reasons("05-answers.jsonl", "bad_answer_kind", 6);
    reasons("05-answers.jsonl", "bad_option_slots", 7);
    reasons("06-placeholders.jsonl", "placeholder_mismatch", 1, 2, 3, 6);
    reasons("06-placeholders.jsonl", "no_images", 4);
    reasons("06-placeholders.jsonl", "too_many_images", 5);
    reasons("07-images.jsonl", "image_empty", 1);
    reasons("07-images.jsonl", "image_unreadable", 2, 3, 4, 5, 10, 11);
    reasons("07-images.jsonl", "image_too_large", 6, 7);
    reasons("07-images.jsonl", "image_not_found", 8, 9);
    reasons("08-paths.jsonl", "image_path_outside_root", 1, 2, 3, 4, 5, 7, 8);
    reasons("08-paths.jsonl", "image_not_found", 10);
    reasons("09-duplicates.jsonl", "duplicate_id", 1, 3, 6);
    reasons("09-duplicates.jsonl", "empty_answer", 4);
    reasons("10-utf8.jsonl", "invalid_utf8", 1, 2, 3, 4, 5);
    reasons("12-long-prompt.jsonl", "prompt_too_long", 1);
    reasons("13-content-duplicates.jsonl", "duplicate_content", 1);
    reasons("15-compressed.jsonl.gz", "empty_answer", 2);
  }

  private static void reasons(String file, String reason, int... lines) {
    for (int l : lines) {
      EXPECTED_REJECTS.put(file + ":" + l, reason);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSessions.create("PrepareBadInputTest", "local[2]");
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
          failedTasks.incrementAndGet();
        }
      }
    });
    corpus = dir.resolve("bad-input");
    copy(Path.of(PrepareBadInputTest.class.getResource("/bad-input").toURI()), corpus);
    Path images = corpus.resolve("images");
    Files.createSymbolicLink(images.resolve("link-outside.png"), Path.of("../outside/secret.png"));
    Files.createSymbolicLink(images.resolve("linked-dir"), Path.of("../outside"));
    Files.createSymbolicLink(images.resolve("link-inside.png"), Path.of("red.png"));
    Files.createSymbolicLink(images.resolve("dangling.png"), Path.of("nothing-here.png"));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @BeforeEach
  void noFailuresYet() {
    failedTasks.set(0);
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  record Cli(int code, String out, String err) {}

  /** Runs {@code perl ARGS} as a user would, with its stdout and stderr captured. */
  static Cli perl(String... args) {
    Cli r = perlWithoutTaskCheck(args);
    assertEquals(0, failedTasks.get(), "no Spark task failed (a failure would log a stack trace)");
    return r;
  }

  /** As {@link #perl} for runs that are meant to fail; still no stack trace may reach the user. */
  static Cli perlWithoutTaskCheck(String... args) {
    CommandLine cl = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = cl.execute(args);
    } finally {
      System.setOut(stdout);
    }
    Cli r = new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString());
    assertFalse(r.err().contains("\tat ") || r.out().contains("\tat "), "no stack trace reaches the user: " + r);
    return r;
  }

  static String fileAndLine(Row reject) {
    String file = reject.<String>getAs("source_file");
    return file.substring(file.lastIndexOf('/') + 1) + ":" + reject.<Long>getAs("row_number");
  }

  @Test
  void everyBadRowIsRejectedWithItsReasonAndEveryGoodRowKeptUnchanged() throws Exception {
    Path out = dir.resolve("out-jsonl");
    Cli r = perl("prepare", "-i", corpus.toString(), "-o", out.toString(), "--image-root",
        corpus.resolve("images").toString(), "--max-image-bytes", "2048", "--shards", "2", "--master", "local[2]");
    assertEquals(0, r.code(), r.toString());

    Map<String, String> rejects = new TreeMap<>();
    for (Row row : spark.read().parquet(out.resolve("rejects").toString()).collectAsList()) {
      assertNotNull(row.getAs("detail"), "every reject says why: " + row);
      assertFalse(row.<String>getAs("detail").isBlank(), "every reject says why: " + row);
      assertNull(rejects.put(fileAndLine(row), row.getAs("reason")), "one reject per row: " + row);
    }
    assertSameTable(EXPECTED_REJECTS, rejects);

    Map<String, Sample> kept = new HashMap<>();
    for (Row row : spark.read().parquet(out.resolve("data").toString()).collectAsList()) {
      Sample s = SampleSchema.fromRow(row);
      kept.put(s.id(), s);
    }
    assertEquals(GOOD.size(), kept.size(), "kept ids: " + kept.keySet());
    for (String good : GOOD) {
      JsonNode line = line(good);
      Sample s = kept.get(line.get("id").asText());
      assertNotNull(s, good + " was kept");
      assertUnchanged(line, s, good);
    }

    JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    long read = summary.get("read").asLong();
    assertEquals(GOOD.size() + EXPECTED_REJECTS.size(), read, "every non-blank line is read");
    assertEquals(read, summary.get("kept").asLong() + summary.get("rejected").asLong(), "read = kept + rejected");
    Map<String, Long> byReason = new TreeMap<>();
    EXPECTED_REJECTS.values().forEach(reason -> byReason.merge(reason, 1L, Long::sum));
    Map<String, Long> summaryByReason = new TreeMap<>();
    summary.get("rejected_by_reason").properties().forEach(e -> summaryByReason.put(e.getKey(), e.getValue().asLong()));
    assertEquals(byReason, summaryByReason);
    assertEquals(summary.get("rejected").asLong(), summaryByReason.values().stream().mapToLong(Long::longValue).sum());
    for (Map.Entry<String, Long> e : byReason.entrySet()) {
      assertTrue(r.out().matches("(?s).*\\b" + e.getKey() + "\\s+" + e.getValue() + "\\b.*"), "console names " + e + ":\n" + r.out());
    }
  }

  /** Fails with only the rows whose reason differs (a full dump of 67 rows hides them). */
  static void assertSameTable(Map<String, String> expected, Map<String, String> actual) {
    List<String> diff = new ArrayList<>();
    for (String k : new java.util.TreeSet<>(java.util.Set.copyOf(concat(expected.keySet(), actual.keySet())))) {
      if (!java.util.Objects.equals(expected.get(k), actual.get(k))) {
        diff.add(k + ": expected " + expected.get(k) + ", got " + actual.get(k));
      }
    }
    assertTrue(diff.isEmpty(), "rejects differ from the corpus table:\n" + String.join("\n", diff));
  }

  private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** The corpus line {@code file:line} as JSON (after the BOM, when the file has one). */
  static JsonNode line(String fileAndLine) throws IOException {
    String[] parts = fileAndLine.split(":");
    byte[] bytes = Files.readAllBytes(corpus.resolve(parts[0]));
    if (parts[0].endsWith(".gz")) {
      bytes = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(bytes)).readAllBytes();
    }
    String text = new String(bytes, StandardCharsets.UTF_8).replace("\uFEFF", "");
    return new ObjectMapper().readTree(text.split("\n")[Integer.parseInt(parts[1]) - 1]);
  }

  /** A kept sample holds exactly what its input line says: text, images byte for byte, labels. */
  static void assertUnchanged(JsonNode line, Sample s, String where) throws IOException {
    assertEquals(line.get("problem").asText(), s.prompt(), where);
    assertEquals(line.get("answer").asText().trim(), s.answer(), where);
    List<JsonNode> images = new ArrayList<>();
    line.get("images").forEach(images::add);
    assertEquals(images.size(), s.images().size(), where);
    for (int i = 0; i < images.size(); i++) {
      String given = images.get(i).asText();
      if (given.startsWith("base64:")) {
        assertArrayEquals(Base64.getDecoder().decode(given.substring(7)), s.images().get(i).bytes(), where);
      } else {
        assertEquals(given, s.images().get(i).uri(), where);
        assertArrayEquals(Files.readAllBytes(corpus.resolve("images").resolve(given)), s.images().get(i).bytes(), where);
      }
    }
    if (line.has("answer_kind")) {
      assertEquals(AnswerKind.parse(line.get("answer_kind").asText()), s.answerKind(), where);
    }
    if (line.has("order_sensitive")) {
      assertEquals(line.get("order_sensitive").asBoolean(), s.orderSensitive(), where);
    }
    assertEquals(line.path("family").asText(""), s.family(), where);
    assertEquals(line.path("data_source").asText(""), s.dataSource(), where);
    List<String> tags = new ArrayList<>();
    line.path("stage_tags").forEach(t -> tags.add(t.asText()));
    assertEquals(tags, s.stageTags(), where);
    List<Integer> slots = new ArrayList<>();
    line.path("option_image_slots").forEach(t -> slots.add(t.asInt()));
    assertEquals(slots, s.optionImageSlots(), where);
  }

  /**
   * Parquet files of one input whose column types differ (as when shards come from different
   * exports): each file is read with its own schema, and a wrong type is a per-row reject.
   */
  @Test
  void parquetShardsWithWrongColumnTypesAreRejectedPerRow() throws Exception {
    byte[] red = Files.readAllBytes(corpus.resolve("images/red.png"));
    Path in = dir.resolve("parquet-in");
    StructType image = DataTypes.createStructType(List.of(
        DataTypes.createStructField("bytes", DataTypes.BinaryType, true),
        DataTypes.createStructField("path", DataTypes.StringType, true)));
    StructType good = schema("id", DataTypes.StringType, "images", DataTypes.createArrayType(image),
        "problem", DataTypes.StringType, "answer", DataTypes.StringType);
    write(in.resolve("a-good"), good,
        RowFactory.create("pq-1", seq(RowFactory.create(red, null)), "<image> red?", "yes"),
        RowFactory.create("pq-2", seq(RowFactory.create(red, null), RowFactory.create(red, null)), "<image> one placeholder", "A"));
    write(in.resolve("b-answer-int"), schema("id", DataTypes.StringType, "images", DataTypes.createArrayType(image),
        "problem", DataTypes.StringType, "answer", DataTypes.LongType),
        RowFactory.create("pq-3", seq(RowFactory.create(red, null)), "<image> how many?", 1L),
        RowFactory.create("pq-4", seq(RowFactory.create(red, null)), "<image> how many?", 2L));
    write(in.resolve("c-images-ints"), schema("id", DataTypes.StringType, "images",
        DataTypes.createArrayType(DataTypes.IntegerType), "problem", DataTypes.StringType, "answer", DataTypes.StringType),
        RowFactory.create("pq-5", seq(1, 2), "<image> <image> images are numbers", "A"));
    write(in.resolve("d-bytes-text"), schema("id", DataTypes.StringType, "images", DataTypes.createArrayType(
        DataTypes.createStructType(List.of(DataTypes.createStructField("bytes", DataTypes.StringType, true)))),
        "problem", DataTypes.StringType, "answer", DataTypes.StringType),
        RowFactory.create("pq-6", seq(RowFactory.create("not base64 at all!")), "<image> bytes as text", "A"));
    write(in.resolve("e-image-path"), schema("id", DataTypes.LongType, "images", DataTypes.StringType,
        "problem", DataTypes.StringType, "answer", DataTypes.StringType),
        RowFactory.create(101L, "red.png", "<image> one path, not a list; integer id", "A"));
    write(in.resolve("f-no-answer"), schema("id", DataTypes.StringType, "images", DataTypes.createArrayType(image),
        "problem", DataTypes.StringType),
        RowFactory.create("pq-7", seq(RowFactory.create(red, null)), "<image> no answer column"));
    Path out = dir.resolve("out-parquet");

    Cli r = perl("prepare", "-i", in.toString(), "-o", out.toString(), "--image-root", corpus.resolve("images").toString());
    assertEquals(0, r.code(), r.toString());

    Map<String, String> rejects = new TreeMap<>();
    for (Row row : spark.read().parquet(out.resolve("rejects").toString()).collectAsList()) {
      String file = row.getAs("source_file");
      String folder = Path.of(file.substring(file.indexOf(':') + 1)).getParent().getFileName().toString();
      rejects.put(folder + ":" + row.getAs("row_number"), row.<String>getAs("reason"));
    }
    Map<String, String> expected = new TreeMap<>(Map.of(
        "a-good:2", "placeholder_mismatch", "b-answer-int:1", "wrong_type", "b-answer-int:2", "wrong_type",
        "c-images-ints:1", "wrong_type", "d-bytes-text:1", "wrong_type", "f-no-answer:1", "missing_field"));
    assertSameTable(expected, rejects);
    Map<String, Sample> kept = new LinkedHashMap<>();
    for (Row row : spark.read().parquet(out.resolve("data").toString()).collectAsList()) {
      kept.put(row.getString(0), SampleSchema.fromRow(row));
    }
    assertEquals(List.of("101", "pq-1"), kept.keySet().stream().sorted().toList());
    assertArrayEquals(red, kept.get("pq-1").images().get(0).bytes());
    assertArrayEquals(red, kept.get("101").images().get(0).bytes());
    assertEquals("red.png", kept.get("101").images().get(0).uri());
  }

  @Test
  void inputsThatCannotBeReadAtAllStopWithAClearMessage() throws Exception {
    Path out = dir.resolve("out-never");
    Cli missing = perl("prepare", "-i", dir.resolve("no-such-input.jsonl").toString(), "-o", out.toString());
    assertEquals(2, missing.code(), missing.toString());
    assertTrue(missing.err().contains("no-such-input.jsonl") && missing.err().contains("does not exist"), missing.err());

    Path notParquet = dir.resolve("not-parquet");
    Files.createDirectories(notParquet);
    Files.writeString(notParquet.resolve("part-0.parquet"), "{\"id\": \"json in disguise\"}\n");
    Cli bad = perl("prepare", "-i", notParquet.toString(), "-o", out.toString());
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("part-0.parquet") && bad.err().contains("not a readable Parquet file"), bad.err());

    Cli root = perl("prepare", "-i", corpus.resolve("01-good.jsonl").toString(), "-o", out.toString(),
        "--image-root", dir.resolve("no-images-here").toString());
    assertEquals(2, root.code(), root.toString());
    assertTrue(root.err().contains("--image-root") && root.err().contains("no-images-here"), root.err());
    assertFalse(Files.exists(out), "nothing is written when the run stops");
  }

  static StructType schema(Object... nameAndType) {
    List<org.apache.spark.sql.types.StructField> f = new ArrayList<>();
    for (int i = 0; i < nameAndType.length; i += 2) {
      f.add(DataTypes.createStructField((String) nameAndType[i], (org.apache.spark.sql.types.DataType) nameAndType[i + 1], true));
    }
    return DataTypes.createStructType(f);
  }

  static void write(Path folder, StructType schema, Row... rows) {
    spark.createDataFrame(Arrays.asList(rows), schema).coalesce(1).write().parquet(folder.toString());
  }

  static scala.collection.immutable.Seq<Object> seq(Object... items) {
    return CollectionConverters.asScala(Arrays.asList(items)).toSeq();
  }
}
