package io.perlspark.jobs.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.data.Sample;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.SparkSessions;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code perl prepare} on inputs as users have them, written by tools other than Spark: id-less
 * Hugging Face Parquet (written here with Parquet's own Java writer, in pyarrow's list layout), any
 * image file name, gzip-compressed JSONL, unreadable files, and mistakes that can be found before a
 * row is read. Every run that writes output checks read = kept + rejected.
 */
class PrepareFrontDoorTest {
  static SparkSession spark;
  @TempDir static Path dir;
  static final byte[] RED = TestImages.png(16, 16, Color.RED);
  static final byte[] BLUE = TestImages.png(20, 12, Color.BLUE);
  static final byte[] GREEN = TestImages.png(12, 12, Color.GREEN);
  static final ObjectMapper JSON = new ObjectMapper();

  /** pyarrow's layout of HF datasets' {@code images: list<struct<bytes, path>>}; no id column. */
  static final MessageType HF_SCHEMA = MessageTypeParser.parseMessageType("""
      message schema {
        optional group images (LIST) {
          repeated group list {
            optional group element {
              optional binary bytes;
              optional binary path (STRING);
            }
          }
        }
        optional binary problem (STRING);
        optional binary answer (STRING);
        optional binary data_source (STRING);
      }
      """);

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("PrepareFrontDoorTest", "local[2]");
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    conf.set("fs.remote.impl", RemoteLikeFileSystem.class.getName());
    conf.setBoolean("fs.remote.impl.disable.cache", true);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  record Prepared(PrepareSummary summary, Map<String, Sample> kept, Map<String, String> rejectReasonByRow,
      Map<String, Row> lineage) {}

  static Prepared prepare(PrepareOptions o) {
    PrepareSummary s = PrepareJob.run(spark, o);
    assertEquals(s.read(), s.kept() + s.rejected(), "read = kept + rejected");
    Map<String, Sample> kept = new TreeMap<>();
    for (Row r : spark.read().parquet(o.output() + "/data").collectAsList()) {
      Sample sample = SampleSchema.fromRow(r);
      kept.put(sample.id(), sample);
    }
    Map<String, String> rejects = new TreeMap<>();
    for (Row r : spark.read().parquet(o.output() + "/rejects").collectAsList()) {
      String file = r.<String>getAs("source_file");
      rejects.put(file.substring(file.lastIndexOf('/') + 1) + ":" + r.<Long>getAs("row_number"), r.getAs("reason"));
    }
    Map<String, Row> lineage = new TreeMap<>();
    for (Row r : spark.read().parquet(o.output() + "/lineage").collectAsList()) {
      lineage.put(r.getAs("id"), r);
    }
    assertEquals(kept.keySet(), lineage.keySet(), "every kept row has its lineage");
    return new Prepared(s, kept, rejects, lineage);
  }

  static PrepareOptions options(List<String> inputs, String imageRoot, Path out, int shards, IdFrom idFrom) {
    return new PrepareOptions(inputs, "auto", imageRoot, out.toString(), ColumnMapping.defaults(),
        io.perlspark.common.data.ValidationLimits.defaults(), ResizePolicy.NONE, shards, "auto", false, idFrom);
  }

  static void writeHfParquet(Path file, List<Object[]> rows) throws IOException {
    Files.createDirectories(file.getParent());
    SimpleGroupFactory groups = new SimpleGroupFactory(HF_SCHEMA);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(file.toUri()))
        .withType(HF_SCHEMA).withConf(new Configuration()).build()) {
      for (Object[] row : rows) {
        Group g = groups.newGroup();
        Group list = g.addGroup("images");
        for (Object img : (List<?>) row[0]) {
          Group element = list.addGroup("list").addGroup("element");
          element.add("bytes", Binary.fromConstantByteArray((byte[]) img));
        }
        g.add("problem", (String) row[1]);
        g.add("answer", (String) row[2]);
        g.add("data_source", "hub");
        w.write(g);
      }
    }
  }

  static List<Object[]> hfRows() {
    List<Object[]> rows = new ArrayList<>();
    rows.add(new Object[] {List.of(RED, BLUE), "<image> <image> Which image is red? A or B", "A"});
    rows.add(new Object[] {List.of(BLUE), "<image> How many shapes?", "1"});
    rows.add(new Object[] {List.of(RED, BLUE), "<image> <image> Which image is red? A or B", "A"}); // exact copy of row 1
    rows.add(new Object[] {List.of(GREEN, RED), "<image> <image> Which image is red? A or B", "B"});
    return rows;
  }

  @Test
  void idLessHuggingFaceParquetGetsRowIdsAndExactCopiesAreRejectedAsDuplicateContent() throws Exception {
    Path in = dir.resolve("hf-rows");
    writeHfParquet(in.resolve("data/train-00000-of-00001.parquet"), hfRows());

    Prepared p = prepare(options(List.of(in.toString()), null, dir.resolve("out-rows"), 2, IdFrom.AUTO));

    assertEquals("row", p.summary().idsFrom(), "no id column: ids come from file and row by default");
    assertEquals(4, p.summary().read());
    assertEquals(List.of("data/train-00000-of-00001.parquet#1", "data/train-00000-of-00001.parquet#2",
        "data/train-00000-of-00001.parquet#4"), new ArrayList<>(p.kept().keySet()));
    assertEquals(Map.of("train-00000-of-00001.parquet:3", "duplicate_content"), p.rejectReasonByRow());
    Row lineage = p.lineage().get("data/train-00000-of-00001.parquet#4");
    assertTrue(lineage.<String>getAs("source_file").endsWith("data/train-00000-of-00001.parquet"));
    assertEquals(4L, (long) lineage.<Long>getAs("row_number"));
    assertEquals(64, lineage.<String>getAs("content_sha256").length());
    assertArrayEquals(GREEN, p.kept().get("data/train-00000-of-00001.parquet#4").images().get(0).bytes());

    // The same ids whatever the partitioning, and on every run.
    Prepared again = prepare(options(List.of(in.toString()), null, dir.resolve("out-rows-1shard"), 1, IdFrom.AUTO));
    assertEquals(p.kept().keySet(), again.kept().keySet());
  }

  @Test
  void contentIdsMakeExactCopiesDuplicateIds() throws Exception {
    Path in = dir.resolve("hf-content");
    writeHfParquet(in.resolve("train.parquet"), hfRows());

    Prepared p = prepare(options(List.of(in.toString()), null, dir.resolve("out-content"), 3, IdFrom.CONTENT));

    assertEquals("content", p.summary().idsFrom());
    assertEquals(3, p.kept().size());
    assertTrue(p.kept().keySet().stream().allMatch(id -> id.matches("sha256-[0-9a-f]{16}")), p.kept().keySet().toString());
    assertEquals(Map.of("train.parquet:3", "duplicate_id"), p.rejectReasonByRow());
    for (Map.Entry<String, Row> e : p.lineage().entrySet()) {
      assertTrue(e.getValue().<String>getAs("content_sha256").startsWith(e.getKey().substring("sha256-".length())));
    }
    Prepared again = prepare(options(List.of(in.toString()), null, dir.resolve("out-content-again"), 1, IdFrom.CONTENT));
    assertEquals(p.kept().keySet(), again.kept().keySet(), "content ids are deterministic");
  }

  @Test
  void anIdColumnStillWinsAndContentCopiesUnderOtherIdsAreCaught() throws Exception {
    Path in = dir.resolve("with-ids/rows.jsonl");
    Files.createDirectories(in.getParent());
    Files.writeString(in, String.join("\n",
        line("a", List.of("base64:" + b64(RED)), "<image> Is it red?", "yes"),
        line("b", List.of("base64:" + b64(RED)), "<image> Is it red?", "yes"),
        line("c", List.of("base64:" + b64(BLUE)), "<image> Is it red?", "no")) + "\n");

    Prepared p = prepare(options(List.of(in.toString()), null, dir.resolve("out-ids"), 1, IdFrom.AUTO));

    assertEquals("column", p.summary().idsFrom());
    assertEquals(List.of("a", "c"), new ArrayList<>(p.kept().keySet()));
    assertEquals(Map.of("rows.jsonl:2", "duplicate_content"), p.rejectReasonByRow());
  }

  /** Names that broke path handling: any Unicode (emoji are surrogate pairs), spaces, #, %, ?. */
  static final List<String> ODD_NAMES = List.of("ünïcødé é.png", "猫/写真 1.png", "emoji 😀🎉.png", "a#b.png",
      "100%.png", "what?.png", "%41 literal.png", "sp  ace + plus.png");

  @Test
  void imagePathsWithAnyCharactersResolveInsideTheRootOnLocalAndOtherFileSystems() throws Exception {
    Path root = dir.resolve("imgs é #1");
    Path jsonl = dir.resolve("odd-names/rows.jsonl");
    Files.createDirectories(jsonl.getParent());
    List<String> lines = new ArrayList<>();
    Map<String, byte[]> expected = new HashMap<>();
    for (int i = 0; i < ODD_NAMES.size(); i++) {
      byte[] png = TestImages.png(8 + i, 8, new Color(30 * i, 100, 200));
      Path f = root.resolve(ODD_NAMES.get(i));
      Files.createDirectories(f.getParent());
      Files.write(f, png);
      lines.add(line("odd-" + i, List.of(ODD_NAMES.get(i)), "<image> What is this?", "a square"));
      expected.put("odd-" + i, png);
    }
    Files.writeString(jsonl, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);

    for (String scheme : List.of("local", "remote")) {
      // Hadoop path strings are unescaped, as users type them: remote:///data/imgs é #1
      String rootArg = scheme.equals("local") ? root.toString() : "remote://" + root;
      Prepared p = prepare(options(List.of(jsonl.toString()), rootArg, dir.resolve("out-odd-" + scheme), 2, IdFrom.AUTO));
      assertEquals(Map.of(), p.rejectReasonByRow(), scheme + ": every odd name resolves");
      assertEquals(ODD_NAMES.size(), p.kept().size());
      for (Map.Entry<String, byte[]> e : expected.entrySet()) {
        assertArrayEquals(e.getValue(), p.kept().get(e.getKey()).images().get(0).bytes(), scheme + " " + e.getKey());
      }
    }
  }

  @Test
  void gzipCompressedJsonlIsReadWhateverItsName() throws Exception {
    Path root = dir.resolve("gz-images");
    Files.createDirectories(root);
    Files.write(root.resolve("red.png"), RED);
    String text = line("g1", List.of("red.png"), "<image> Colour?", "red") + "\n"
        + line("g2", List.of("red.png"), "<image> Shape?", "square") + "\n";
    Path in = dir.resolve("gz");
    Files.createDirectories(in);
    Files.write(in.resolve("a.jsonl.gz"), gzip(text));
    // gzip detected by its magic bytes, not by the name
    Files.write(in.resolve("b.jsonl"), gzip(line("g3", List.of("red.png"), "<image> Size?", "small") + "\n"));

    Prepared p = prepare(options(List.of(in.toString()), root.toString(), dir.resolve("out-gz"), 1, IdFrom.AUTO));

    assertEquals(List.of("g1", "g2", "g3"), new ArrayList<>(p.kept().keySet()));
    assertEquals(3, p.summary().read());
  }

  @Test
  void aTruncatedGzipStopsTheRunNamingTheFileAndLeavesNothingBehind() throws Exception {
    Path in = dir.resolve("gz-broken");
    Files.createDirectories(in);
    // Long enough that the cut lies far beyond what the probe samples: the failure comes mid-read.
    StringBuilder text = new StringBuilder();
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
    for (int i = 0; i < 3000; i++) {
      text.append(line("t" + i, List.of("base64:" + b64(RED)), "<image> Colour? " + rnd.nextLong(), "red")).append('\n');
    }
    byte[] gz = gzip(text.toString());
    Files.write(in.resolve("ok.jsonl"), (line("fine", List.of("base64:" + b64(RED)), "<image> ?", "red") + "\n")
        .getBytes(StandardCharsets.UTF_8));
    Files.write(in.resolve("cut.jsonl.gz"), java.util.Arrays.copyOf(gz, gz.length * 2 / 3));
    Path out = dir.resolve("out-gz-broken");

    PrepareBadInputTest.Cli r = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--master", "local[2]");

    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("cut.jsonl.gz") && r.err().contains("cannot be read after line"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    assertNothingWritten(out);
  }

  @Test
  void aFileThatIsNotTheDeclaredFormatStopsBeforeAnyRowIsRead() throws Exception {
    Path in = dir.resolve("not-jsonl");
    Files.createDirectories(in);
    Files.write(in.resolve("ok.jsonl"), (line("x", List.of("base64:" + b64(RED)), "<image> ?", "red") + "\n")
        .getBytes(StandardCharsets.UTF_8));
    Files.write(in.resolve("picture.jsonl"), RED);
    Path out = dir.resolve("out-not-jsonl");

    PrepareBadInputTest.Cli r = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--master", "local[2]");

    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("picture.jsonl is not JSONL text"), r.err());
    assertNothingWritten(out);
  }

  @Test
  void aParquetFileThatFailsWhileSparkReadsItStopsTheRunAndRemovesTheStagingFolder() throws Exception {
    Path in = dir.resolve("parquet-corrupt");
    Path file = in.resolve("train.parquet");
    writeHfParquet(file, hfRows());
    // Damage the first data page but keep the footer: the probe reads the schema, Spark's read fails.
    byte[] bytes = Files.readAllBytes(file);
    for (int i = 4; i < 40; i++) {
      bytes[i] = (byte) 0xFF;
    }
    Files.write(file, bytes);
    Path out = dir.resolve("out-parquet-corrupt");

    PrepareBadInputTest.Cli r = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--master", "local[2]");

    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("train.parquet") && r.err().contains("cannot be read"), r.err());
    assertNothingWritten(out);
  }

  @Test
  void anUnreadableFileIsNamed() throws Exception {
    assumeFalse("root".equals(System.getProperty("user.name")), "root reads files whatever their permissions");
    Path in = dir.resolve("no-permission");
    Files.createDirectories(in);
    Path f = in.resolve("secret.jsonl");
    Files.writeString(f, line("s", List.of("base64:" + b64(RED)), "<image> ?", "red") + "\n");
    Files.setPosixFilePermissions(f, java.util.Set.of());
    Path out = dir.resolve("out-no-permission");

    PrepareBadInputTest.Cli r = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--master", "local[2]");

    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("secret.jsonl cannot be read"), r.err());
    assertNothingWritten(out);
  }

  @Test
  void aMapColumnTheInputLacksStopsAtOnceListingTheColumns() throws Exception {
    Path in = dir.resolve("hf-map");
    writeHfParquet(in.resolve("train.parquet"), hfRows());
    Path out = dir.resolve("out-map");

    PrepareBadInputTest.Cli r = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--map", "prompt=question",
        "--master", "local[2]");

    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--map prompt=question: there is no column 'question'"), r.err());
    assertTrue(r.err().contains("columns: answer, data_source, images, problem"), r.err());
    assertNothingWritten(out);

    PrepareBadInputTest.Cli noId = cli("prepare", "-i", in.toString(), "-o", out.toString(), "--id-from", "column",
        "--master", "local[2]");
    assertEquals(2, noId.code(), noId.toString());
    assertTrue(noId.err().contains("--id-from column: there is no id column 'id'"), noId.err());
    assertNothingWritten(out);
  }

  @Test
  void resizeComesBeforeThePixelLimitAndLongPromptsHaveTheirOwnReason() throws Exception {
    Path in = dir.resolve("resize/rows.jsonl");
    Files.createDirectories(in.getParent());
    byte[] big = TestImages.png(64, 48, Color.ORANGE);
    Files.writeString(in, String.join("\n",
        line("big", List.of("base64:" + b64(big)), "<image> Colour?", "orange"),
        line("long", List.of("base64:" + b64(RED)), "<image> " + "why ".repeat(40), "red")) + "\n");
    io.perlspark.common.data.ValidationLimits limits = io.perlspark.common.data.ValidationLimits.defaults()
        .withMaxPixels(32 * 32).withMaxPromptChars(100);

    PrepareOptions plain = new PrepareOptions(List.of(in.toString()), "auto", null, dir.resolve("out-noresize").toString(),
        ColumnMapping.defaults(), limits, ResizePolicy.NONE, 1, "auto", false, IdFrom.AUTO);
    Prepared without = prepare(plain);
    assertEquals(Map.of("rows.jsonl:1", "image_too_large", "rows.jsonl:2", "prompt_too_long"), without.rejectReasonByRow());

    PrepareOptions resized = new PrepareOptions(List.of(in.toString()), "auto", null, dir.resolve("out-resize").toString(),
        ColumnMapping.defaults(), limits, ResizePolicy.parse("fit:32"), 1, "auto", false, IdFrom.AUTO);
    Prepared with = prepare(resized);
    assertEquals(List.of("big"), new ArrayList<>(with.kept().keySet()), "fits once scaled down to 32x24");
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(
        new java.io.ByteArrayInputStream(with.kept().get("big").images().get(0).bytes()));
    assertEquals(32, img.getWidth());
    assertEquals(24, img.getHeight());
  }

  // ---------------------------------------------------------------------------------------------

  static PrepareBadInputTest.Cli cli(String... args) {
    return PrepareBadInputTest.perlWithoutTaskCheck(args);
  }

  static void assertNothingWritten(Path out) throws IOException {
    if (Files.exists(out)) {
      try (Stream<Path> s = Files.list(out)) {
        fail("nothing may remain of a failed run, found " + s.toList());
      }
    }
    try (Stream<Path> s = Files.list(out.getParent())) {
      List<String> leftovers = s.map(p -> p.getFileName().toString())
          .filter(n -> n.contains(out.getFileName().toString()) && !n.equals(out.getFileName().toString())).toList();
      assertEquals(List.of(), leftovers, "no staging folder left behind");
    }
  }

  private static void fail(String message) {
    org.junit.jupiter.api.Assertions.fail(message);
  }

  static String line(String id, List<String> images, String problem, String answer) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    if (id != null) {
      m.put("id", id);
    }
    m.put("images", images);
    m.put("problem", problem);
    m.put("answer", answer);
    try {
      return JSON.writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String b64(byte[] b) {
    return java.util.Base64.getEncoder().encodeToString(b);
  }

  static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bos.toByteArray();
  }

  /**
   * The local disk under another scheme, so that the code path for file systems other than
   * {@code file:} (HDFS, S3A: no symbolic links, paths as URIs) runs in a test.
   */
  public static final class RemoteLikeFileSystem extends RawLocalFileSystem {
    @Override
    public URI getUri() {
      return URI.create("remote:///");
    }

    @Override
    public String getScheme() {
      return "remote";
    }
  }
}
