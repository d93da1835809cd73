package io.perlspark.jobs.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.data.ValidationLimits;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.train.StageDataProbe;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code perl prepare --incremental}: new files only, safe to re-run, batches committed atomically. */
class PrepareIncrementalTest {
  static SparkSession spark;
  @TempDir static Path dir;
  static Path images;

  @BeforeAll
  static void start() throws IOException {
    spark = SparkSessions.create("PrepareIncrementalTest", "local[2]");
    images = dir.resolve("images");
    Files.createDirectories(images);
    Files.write(images.resolve("red.png"), TestImages.png(16, 16, Color.RED));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @AfterEach
  void noCrash() {
    IncrementalPrepare.crashPoint = phase -> {};
  }

  /** Thrown from the test seam: like a crash, it skips every cleanup that catches exceptions. */
  static final class SimulatedCrash extends Error {
    SimulatedCrash(String phase) {
      super("simulated crash at " + phase);
    }
  }

  record Cli(int code, String out, String err) {}

  static Cli perl(String... args) {
    CommandLine cl = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      Cli r = new Cli(cl.execute(args), out.toString(StandardCharsets.UTF_8), err.toString());
      assertFalse(r.err().contains("\tat "), "no stack trace reaches the user: " + r.err());
      return r;
    } finally {
      System.setOut(stdout);
    }
  }

  static Cli prepare(Path in, Path out) {
    return perl("prepare", "--incremental", "-i", in.toString(), "-o", out.toString(), "--image-root", images.toString(),
        "--shards", "2");
  }

  /** A JSONL line of a valid one-image row (or one with an empty answer when {@code answer} is ""). */
  static String row(String id, String answer) {
    return "{\"id\": \"" + id + "\", \"images\": [\"red.png\"], \"problem\": \"<image> row " + id + "\", \"answer\": \""
        + answer + "\"}";
  }

  static Path jsonl(Path in, String name, String... lines) throws IOException {
    Files.createDirectories(in);
    return Files.write(in.resolve(name), List.of(lines));
  }

  /** Every file under {@code out} with its size and modification time. */
  static Map<String, String> snapshot(Path out) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> files = Files.walk(out)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          m.put(out.relativize(p).toString(), Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
        }
      }
    }
    return m;
  }

  static JsonNode manifest(Path out) throws IOException {
    return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
  }

  static List<String> ids(Dataset<Row> rows) {
    List<String> ids = new ArrayList<>();
    rows.select("id").collectAsList().forEach(r -> ids.add(r.getString(0)));
    ids.sort(null);
    return ids;
  }

  static Dataset<Row> data(Path out) {
    return spark.read().parquet(out.resolve("data").toString());
  }

  @Test
  void aReRunWithoutNewFilesIsANoOpAndANewFileBecomesTheNextBatch() throws Exception {
    Path in = dir.resolve("in-1");
    Path out = dir.resolve("out-1");
    jsonl(in, "a.jsonl", row("a-1", "A"), row("a-2", "B"), row("a-3", "C"), row("a-bad", ""));

    Cli first = prepare(in, out);
    assertEquals(0, first.code(), first.toString());
    assertTrue(first.out().contains("batch 1: 1 new input file prepared"), first.out());
    Map<String, String> afterFirst = snapshot(out);

    Cli again = prepare(in, out);
    assertEquals(0, again.code(), again.toString());
    assertTrue(again.out().contains("nothing to do: the input file was prepared by earlier runs"), again.out());
    assertEquals(afterFirst, snapshot(out), "a re-run without new files writes nothing");

    // b.jsonl repeats a-1 (kept by batch 1) and a-bad (rejected by batch 1, so not a kept id).
    jsonl(in, "b.jsonl", row("b-1", "A"), row("a-1", "B"), row("a-bad", "D"), row("b-2", "C"));
    Cli second = prepare(in, out);
    assertEquals(0, second.code(), second.toString());
    assertTrue(second.out().contains("batch 2: 1 new input file prepared (1 prepared before)"), second.out());

    JsonNode m = manifest(out);
    assertEquals(2, m.get("batches").size());
    JsonNode batch2 = m.get("batches").get(1);
    assertEquals(1, batch2.get("files").size(), "batch 2 read only the new file");
    assertTrue(batch2.get("files").get(0).get("path").asText().endsWith("/b.jsonl"));
    assertEquals(Files.size(in.resolve("b.jsonl")), batch2.get("files").get(0).get("size").asLong());
    assertEquals(4, batch2.get("read").asLong());
    assertEquals(3, batch2.get("kept").asLong());
    assertEquals(1, batch2.get("rejected_by_reason").get("duplicate_id").asLong());
    assertEquals(8, m.get("read").asLong());
    assertEquals(m.get("read").asLong(), m.get("kept").asLong() + m.get("rejected").asLong(), "totals: read = kept + rejected");

    // Readers see one dataset: a plain read of data/, and the path DataPaths gives for the folder.
    assertEquals(List.of("a-1", "a-2", "a-3", "a-bad", "b-1", "b-2"), ids(data(out)));
    String resolved = DataPaths.resolve(out.toString(), new Configuration());
    Dataset<Row> read = spark.read().parquet(resolved);
    PermutationTransform.transformSchema(read.schema());
    assertEquals(6, read.select(SampleSchema.columns()).count());
    assertEquals(List.of(1, 2), read.select("batch").distinct().orderBy("batch").collectAsList().stream()
        .map(r -> r.getInt(0)).toList());
    assertEquals(List.of("a-1", "a-2", "a-3", "a-bad", "b-1", "b-2"), StageDataProbe.promptIds(spark, out.toString()),
        "a training stage given the output folder sees both batches");
    Row duplicate = spark.read().parquet(out.resolve("rejects").toString()).filter("reason = 'duplicate_id'").first();
    assertEquals("a-1", duplicate.getAs("row_id"));
    assertTrue(duplicate.<String>getAs("detail").contains("batch 1"), duplicate.toString());
  }

  @Test
  void aChangedInputFileIsRefusedAndNothingIsWritten() throws Exception {
    Path in = dir.resolve("in-2");
    Path out = dir.resolve("out-2");
    Path c = jsonl(in, "c.jsonl", row("c-1", "A"));
    assertEquals(0, prepare(in, out).code());
    Map<String, String> before = snapshot(out);

    Files.writeString(c, row("c-2", "B") + "\n", StandardOpenOption.APPEND);
    jsonl(in, "d.jsonl", row("d-1", "A"));
    Cli changed = prepare(in, out);
    assertEquals(2, changed.code(), changed.toString());
    assertTrue(changed.err().contains("c.jsonl") && changed.err().contains("changed since a batch prepared it")
        && changed.err().contains("This run prepared nothing"), changed.err());
    assertEquals(before, snapshot(out));

    Path plain = dir.resolve("out-2-plain");
    assertEquals(0, perl("prepare", "-i", in.resolve("d.jsonl").toString(), "-o", plain.toString(), "--image-root",
        images.toString()).code());
    Cli notIncremental = prepare(in, plain);
    assertEquals(2, notIncremental.code());
    assertTrue(notIncremental.err().contains("without --incremental"), notIncremental.err());
  }

  @Test
  void aCrashBeforeTheCommitLeavesNothingVisibleAndTheNextRunRedoesTheFile() throws Exception {
    Path in = dir.resolve("in-3");
    Path out = dir.resolve("out-3");
    jsonl(in, "x.jsonl", row("x-1", "A"), row("x-2", "B"));
    assertEquals(0, prepare(in, out).code());
    jsonl(in, "y.jsonl", row("y-1", "A"), row("y-bad", ""));

    IncrementalPrepare.crashPoint = phase -> {
      if (phase.equals("staged")) {
        throw new SimulatedCrash(phase);
      }
    };
    assertThrows(SimulatedCrash.class, () -> PrepareJob.runIncremental(spark, options(in, out)));
    IncrementalPrepare.crashPoint = phase -> {};
    try (Stream<Path> left = Files.list(out)) {
      assertTrue(left.anyMatch(p -> p.getFileName().toString().startsWith("_staging-")), "the crash left its staging folder");
    }
    assertEquals(List.of("x-1", "x-2"), ids(data(out)), "readers see only the committed batch");
    assertEquals(0, spark.read().parquet(out.resolve("rejects").toString()).count());
    assertEquals(1, manifest(out).get("batches").size());

    Cli next = prepare(in, out);
    assertEquals(0, next.code(), next.toString());
    assertTrue(next.out().contains("batch 2: 1 new input file prepared"), next.out());
    assertEquals(List.of("x-1", "x-2", "y-1"), ids(data(out)));
    assertEquals(List.of("y-bad"), ids(spark.read().parquet(out.resolve("rejects").toString()).withColumnRenamed("row_id", "id")));
    try (Stream<Path> left = Files.list(out)) {
      assertFalse(left.anyMatch(p -> p.getFileName().toString().startsWith("_staging-")), "leftovers removed");
    }
  }

  @Test
  void aCrashAfterTheCommitRenameIsListedByTheNextRunWithoutRedoingTheFile() throws Exception {
    Path in = dir.resolve("in-4");
    Path out = dir.resolve("out-4");
    jsonl(in, "x.jsonl", row("x-1", "A"));
    assertEquals(0, prepare(in, out).code());
    jsonl(in, "y.jsonl", row("y-1", "A"), row("y-2", "B"));

    IncrementalPrepare.crashPoint = phase -> {
      if (phase.equals("data-renamed")) {
        throw new SimulatedCrash(phase);
      }
    };
    assertThrows(SimulatedCrash.class, () -> PrepareJob.runIncremental(spark, options(in, out)));
    IncrementalPrepare.crashPoint = phase -> {};
    assertEquals(1, manifest(out).get("batches").size(), "the manifest lags behind the committed batch");
    assertEquals(List.of("x-1", "y-1", "y-2"), ids(data(out)), "the committed batch is visible whole");

    Cli next = prepare(in, out);
    assertEquals(0, next.code(), next.toString());
    assertTrue(next.out().contains("recovered batch 2") && next.out().contains("nothing to do"), next.out());
    JsonNode m = manifest(out);
    assertEquals(2, m.get("batches").size());
    assertEquals(3, m.get("kept").asLong());
    assertEquals(List.of("x-1", "y-1", "y-2"), ids(data(out)), "y.jsonl was not prepared twice");
  }

  static PrepareOptions options(Path in, Path out) {
    return new PrepareOptions(List.of(in.toString()), "auto", images.toString(), out.toString(), ColumnMapping.defaults(),
        ValidationLimits.defaults(), ResizePolicy.NONE, 2, "auto", false);
  }
}
