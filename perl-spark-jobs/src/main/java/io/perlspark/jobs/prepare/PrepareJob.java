package io.perlspark.jobs.prepare;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.perlspark.common.data.RejectReason;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.AtomicOutput;
import io.perlspark.jobs.spark.RowValues;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

/**
 * {@code perl prepare}: reads HF / EasyR1 / verl-style Parquet or JSONL + an image root, validates
 * every row (docs/ARCHITECTURE.md "Data"), embeds and checks the images, and writes canonical sharded Parquet plus a
 * rejects table with each bad row's file, row and reason. Nothing is dropped silently: read = kept +
 * rejected. The output folder appears all at once (staged, then renamed). Inputs are listed up front
 * ({@link InputFiles}); a missing input or a file that is not Parquet at all stops the run with a
 * message naming it, while everything wrong inside a row becomes a reject.
 */
public final class PrepareJob {
  private PrepareJob() {}

  /** Result rows: the canonical columns (nullable) + where the row came from + why it was rejected. */
  static final StructType RESULT;

  static {
    List<StructField> fields = new ArrayList<>();
    for (StructField f : SampleSchema.SCHEMA.fields()) {
      fields.add(new StructField(f.name(), f.dataType(), true, f.metadata()));
    }
    fields.add(DataTypes.createStructField("_source_file", DataTypes.StringType, false));
    fields.add(DataTypes.createStructField("_row_number", DataTypes.LongType, false));
    fields.add(DataTypes.createStructField("_row_id", DataTypes.StringType, true));
    fields.add(DataTypes.createStructField("_reason", DataTypes.StringType, true));
    fields.add(DataTypes.createStructField("_detail", DataTypes.StringType, true));
    fields.add(DataTypes.createStructField("_content", DataTypes.StringType, true));
    fields.add(DataTypes.createStructField("_file_error", DataTypes.StringType, true));
    RESULT = DataTypes.createStructType(fields);
  }

  /**
   * Where each kept row came from ({@code lineage/}, next to {@code data/}): its id, the input file,
   * the 1-based row number (JSONL: physical line) and the SHA-256 of its content. Kept apart from the
   * canonical data so the training schema stays the same.
   */
  public static final StructType LINEAGE = DataTypes.createStructType(new StructField[] {
    DataTypes.createStructField("id", DataTypes.StringType, false),
    DataTypes.createStructField("source_file", DataTypes.StringType, false),
    DataTypes.createStructField("row_number", DataTypes.LongType, false),
    DataTypes.createStructField("content_sha256", DataTypes.StringType, false)
  });

  /** The rejects table; {@code row_number} counts from 1 (JSONL: the physical line; Parquet: the row in its file). */
  public static final StructType REJECTS = DataTypes.createStructType(new StructField[] {
    DataTypes.createStructField("row_id", DataTypes.StringType, true),
    DataTypes.createStructField("row_number", DataTypes.LongType, false),
    DataTypes.createStructField("source_file", DataTypes.StringType, false),
    DataTypes.createStructField("reason", DataTypes.StringType, false),
    DataTypes.createStructField("detail", DataTypes.StringType, true)
  });

  public static PrepareSummary run(SparkSession spark, PrepareOptions o) {
    long t0 = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    AtomicOutput out = AtomicOutput.begin(o.output(), o.overwrite(), hadoop);
    try {
      InputFiles.Listing in = InputFiles.list(o.inputs(), o.format(), hadoop);
      Counts c = process(spark, o, in, qualifiedImageRoot(o.imageRoot(), hadoop), null, out.staged("data"),
          out.staged("rejects"), out.staged("lineage"));
      PrepareSummary summary = new PrepareSummary(c.read(), c.kept(), c.rejectedByReason(), (System.nanoTime() - t0) / 1e9,
          out.stagedSize(), c.idFrom().wireName());
      out.writeStagedText("summary.json", summaryJson(summary, o));
      out.commit();
      return summary;
    } catch (Throwable e) {
      // Spark's SparkException is a checked exception in Java's eyes and not a RuntimeException:
      // whatever failed, nothing half-written may remain.
      out.abort();
      throw userError(e);
    }
  }

  /**
   * A failed Spark job whose cause is an input file that could not be read becomes one line naming
   * the file; anything else is rethrown unchanged.
   */
  static RuntimeException userError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PerlUserException u) {
        return u;
      }
      if (t instanceof InputReadException r) {
        return new PerlUserException(r.getMessage(), e);
      }
    }
    java.util.regex.Matcher failedRead = FAILED_READ.matcher(String.valueOf(e.getMessage()));
    if (failedRead.find()) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      return new PerlUserException("--input: " + failedRead.group(1) + " cannot be read (" + InputProbe.message(root)
          + "); nothing was written (remove the file from the input, or fix it, and run again)", e);
    }
    if (e instanceof RuntimeException r) {
      return r;
    }
    if (e instanceof Error err) {
      throw err;
    }
    return new IllegalStateException(e.getMessage(), e);
  }

  /** Spark's error for a file its reader failed on (error class FAILED_READ_FILE). */
  private static final java.util.regex.Pattern FAILED_READ =
      java.util.regex.Pattern.compile("FAILED_READ_FILE[^\\n]*? reading file (\\S+?)\\.?\\s");

  /** An input file that failed while its rows were read (after the probe found it readable). */
  static final class InputReadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InputReadException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * {@code perl prepare --incremental}: prepares only the input files no earlier run processed, as
   * one new batch of {@code output} (see {@link IncrementalPrepare}).
   */
  public static IncrementalSummary runIncremental(SparkSession spark, PrepareOptions o) {
    return new IncrementalPrepare(spark, o).run();
  }

  /** What {@link #process} wrote: every row read is kept or rejected with a reason. */
  record Counts(long read, long kept, Map<String, Long> rejectedByReason, IdFrom idFrom) {}

  /**
   * Reads, converts and validates {@code in}, and writes the kept rows to {@code dataPath} and the
   * rejects to {@code rejectsPath}.
   *
   * @param earlier ids already kept by earlier batches (columns {@code id}, {@code batch}), or null:
   *     a valid row with such an id is rejected as a duplicate
   */
  static Counts process(SparkSession spark, PrepareOptions o, InputFiles.Listing in, String imageRoot,
      Dataset<Row> earlier, String dataPath, String rejectsPath, String lineagePath) {
    List<String> files = in.files().stream().map(InputFiles.InputFile::path).toList();
    List<InputProbe.FileProbe> probes = InputProbe.probe(spark, files, in.format());
    InputProbe.requireReadable(probes);
    IdFrom idFrom = checkColumns(o, InputProbe.columns(probes), in.format());
    RecordConverter converter = new RecordConverter(o.mapping(), o.limits(), o.resize(), imageRoot,
        o.defaultAnswerKind(), idFrom);
    SerializableConfiguration conf = new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
    Map<String, String> keys = new LinkedHashMap<>();
    in.files().forEach(f -> keys.put(f.path(), f.key()));
    JavaRDD<Row> results = in.format().equals("jsonl")
        ? readJsonl(spark, in.files(), converter, conf)
        : readParquet(spark, probes, keys, converter, conf);
    Dataset<Row> all = spark.createDataFrame(results, RESULT).persist();
    try {
      List<Row> broken = all.filter(col("_file_error").isNotNull()).select("_file_error").limit(1).collectAsList();
      if (!broken.isEmpty()) {
        throw new PerlUserException(broken.get(0).<String>getAs("_file_error") + "; nothing was written");
      }
      Dataset<Row> valid = all.filter(col("_reason").isNull());
      Dataset<Row> rejects = all.filter(col("_reason").isNotNull()).select(
          col("_row_id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
          col("_reason").as("reason"), col("_detail").as("detail"));
      if (earlier != null) {
        Dataset<Row> seen = earlier.select(col("id").as("_earlier_id"), col("batch").as("_earlier_batch"));
        Dataset<Row> joined = valid.join(seen, col("id").equalTo(col("_earlier_id")), "left_outer");
        rejects = rejects.unionByName(joined.filter(col("_earlier_id").isNotNull()).select(
            col("id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
            lit(RejectReason.DUPLICATE_ID.wireName()).as("reason"),
            concat(lit("id already kept in batch "), col("_earlier_batch").cast("string"), lit(" (an earlier run)"))
                .as("detail")));
        valid = joined.filter(col("_earlier_id").isNull()).drop("_earlier_id", "_earlier_batch");
      }
      // The first occurrence of an id (by file, then row) is kept; later ones are rejected. Among
      // rows with distinct ids, the first of each exact content is kept and later copies rejected.
      Dataset<Row> ranked = valid
          .withColumn("_rank", row_number().over(Window.partitionBy("id").orderBy("_source_file", "_row_number")))
          .withColumn("_content_rank", row_number().over(
              Window.partitionBy("_content", "_rank").orderBy("_source_file", "_row_number")))
          .persist();
      Dataset<Row> firsts = ranked.filter(col("_rank").equalTo(1).and(col("_content_rank").equalTo(1)));
      Dataset<Row> kept = firsts.select(SampleSchema.columns())
          .repartitionByRange(o.shards(), col("id")).sortWithinPartitions("id");
      Dataset<Row> duplicates = ranked.filter(col("_rank").gt(1)).select(
          col("id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
          lit(RejectReason.DUPLICATE_ID.wireName()).as("reason"),
          lit(idFrom == IdFrom.CONTENT
              ? "same prompt, images and answer as a row seen earlier in the input (first occurrence kept)"
              : "id already seen earlier in the input (first occurrence kept)").as("detail"));
      Dataset<Row> sameContent = ranked.filter(col("_rank").equalTo(1).and(col("_content_rank").gt(1))).select(
          col("id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
          lit(RejectReason.DUPLICATE_CONTENT.wireName()).as("reason"),
          lit("same prompt, images and answer as a row seen earlier in the input under another id (first kept)")
              .as("detail"));
      rejects = rejects.unionByName(duplicates).unionByName(sameContent)
          .repartition(1).sortWithinPartitions("source_file", "row_number");

      spark.createDataFrame(kept.rdd(), SampleSchema.SCHEMA).write().parquet(dataPath);
      rejects.write().parquet(rejectsPath);
      if (lineagePath != null) {
        Dataset<Row> lineage = firsts.select(col("id"), col("_source_file").as("source_file"),
            col("_row_number").as("row_number"), col("_content").as("content_sha256"))
            .repartition(1).sortWithinPartitions("source_file", "row_number");
        spark.createDataFrame(lineage.rdd(), LINEAGE).write().parquet(lineagePath);
      }

      long read = all.count();
      Map<String, Long> byReason = new TreeMap<>();
      for (Row r : spark.read().parquet(rejectsPath).groupBy("reason").count().collectAsList()) {
        byReason.put(r.getAs("reason"), r.<Long>getAs("count"));
      }
      long keptCount = spark.read().parquet(dataPath).count();
      ranked.unpersist();
      return new Counts(read, keptCount, byReason, idFrom);
    } finally {
      all.unpersist();
    }
  }

  /**
   * Checks the input's columns against the mapping before any row is read, and decides where ids come
   * from: a {@code --map} column the input lacks, or an input with neither the prompt nor the answer
   * column, stops here with the available columns listed (JSONL columns come from a sample of rows).
   */
  static IdFrom checkColumns(PrepareOptions o, java.util.Set<String> columns, String format) {
    ColumnMapping m = o.mapping();
    if (columns.isEmpty()) {
      // No row could be parsed in the sample: every row will be rejected with its own reason.
      return o.idFrom() == IdFrom.AUTO ? IdFrom.COLUMN : o.idFrom();
    }
    String available = String.join(", ", columns);
    String where = format.equals("jsonl") ? " in the sampled rows of the input" : " in the input";
    for (String field : m.explicitFields()) {
      String column = m.column(field);
      if (!columns.contains(column)) {
        throw new PerlUserException("--map " + field + "=" + column + ": there is no column '" + column + "'" + where
            + "; columns: " + available);
      }
    }
    for (String field : List.of("prompt", "answer")) {
      String column = m.column(field);
      if (!columns.contains(column)) {
        throw new PerlUserException("no column '" + column + "' for the " + field + where + "; columns: " + available
            + "; map one with --map " + field + "=COLUMN");
      }
    }
    boolean hasId = columns.contains(m.column("id"));
    return switch (o.idFrom()) {
      case AUTO -> hasId ? IdFrom.COLUMN : IdFrom.ROW;
      case COLUMN -> {
        if (!hasId) {
          throw new PerlUserException("--id-from column: there is no id column '" + m.column("id") + "'" + where
              + "; columns: " + available + "; map one with --map id=COLUMN, or use --id-from row|content");
        }
        yield IdFrom.COLUMN;
      }
      default -> o.idFrom();
    };
  }

  /**
   * The image root, qualified on the driver (executors must not resolve a relative root against
   * their own working folder); a root that is missing or not a folder is an error before any work.
   */
  static String qualifiedImageRoot(String imageRoot, Configuration conf) {
    if (imageRoot == null) {
      return null;
    }
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(imageRoot);
      org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
        throw new PerlUserException("--image-root " + imageRoot + ": not an existing folder");
      }
      // As an encoded URI string: a Path's toString() decodes, and re-parsing would turn a literal
      // "%41" in a folder name into "A".
      return fs.makeQualified(p).toUri().toString();
    } catch (IOException e) {
      throw new PerlUserException("--image-root " + imageRoot + ": " + e.getMessage(), e);
    }
  }

  private static JavaRDD<Row> readJsonl(SparkSession spark, List<InputFiles.InputFile> files,
      RecordConverter converter, SerializableConfiguration conf) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // A whole file per task so that every row gets its exact line number; large inputs come sharded.
    int slices = Math.max(1, Math.min(files.size(), 8 * jsc.defaultParallelism()));
    return jsc.parallelize(files, slices).flatMap(f -> new JsonlRows(f.path(), f.key(), converter, conf.value()));
  }

  /**
   * The rows of one JSONL file, read lazily (a shard's decoded images never sit in memory all at
   * once). Each line is decoded strictly: invalid UTF-8, trailing text after the object and repeated
   * keys are refused rather than repaired or silently dropped. A blank line is not a row.
   */
  private static final class JsonlRows implements Iterator<Row> {
    private static final ObjectMapper JSON = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();

    private final String file;
    private final String key;
    private final RecordConverter converter;
    private final Configuration hadoop;
    private InputStream in;
    private long line;
    private Row next;
    private boolean done;

    JsonlRows(String file, String key, RecordConverter converter, Configuration hadoop) {
      this.file = file;
      this.key = key;
      this.converter = converter;
      this.hadoop = hadoop;
    }

    @Override
    public boolean hasNext() {
      if (next == null && !done) {
        next = advance();
      }
      return next != null;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      Row r = next;
      next = null;
      return r;
    }

    private Row advance() {
      try {
        if (in == null) {
          in = InputProbe.openText(new org.apache.hadoop.fs.Path(file), hadoop);
        }
        byte[] bytes;
        while ((bytes = InputProbe.JsonlLines.next(in)) != null) {
          line++;
          if (line == 1) {
            bytes = InputProbe.JsonlLines.withoutBom(bytes);
          }
          Row row = parse(bytes);
          if (row != null) {
            return row;
          }
        }
        in.close();
        done = true;
        return null;
      } catch (IOException e) {
        // Not a task failure (Spark would log a stack trace and retry): a marker row, after which
        // the driver stops the job naming the file.
        done = true;
        closeQuietly();
        return fileError(file, line, "--input: " + file + " cannot be read after line " + line + " ("
            + InputProbe.message(e) + ")");
      }
    }

    private void closeQuietly() {
      try {
        if (in != null) {
          in.close();
        }
      } catch (IOException ignored) {
        // already failing; the error row names the file
      }
    }

    /** The row of one line, or null for a blank line. */
    private Row parse(byte[] bytes) {
      String text;
      try {
        text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
      } catch (CharacterCodingException e) {
        return reject(file, line, "line " + line, RejectReason.INVALID_UTF8, "line is not valid UTF-8");
      }
      if (text.isBlank()) {
        return null;
      }
      try {
        JsonNode node = JSON.readTree(text);
        if (node == null || !node.isObject()) {
          return reject(file, line, "line " + line, RejectReason.MALFORMED_ROW,
              "line is not a JSON object (one object per line expected)");
        }
        return toResult(converter.convert(RowValues.fromJson(node), file, key, line, hadoop), file, line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        return reject(file, line, "line " + line, RejectReason.MALFORMED_ROW, "not valid JSON: " + e.getOriginalMessage());
      }
    }
  }

  /**
   * Parquet files are read in groups of identical schema. Spark reads a file list with the schema of
   * one of its files: another file whose column has a different type would fail the whole job, and a
   * column only some files have would be dropped without a word. Per group, every file is read with
   * its own schema and a wrong type becomes a per-row {@code wrong_type} reject.
   */
  private static JavaRDD<Row> readParquet(SparkSession spark, List<InputProbe.FileProbe> probes,
      Map<String, String> keys, RecordConverter converter, SerializableConfiguration conf) {
    Map<String, List<String>> groups = new LinkedHashMap<>();
    for (InputProbe.FileProbe p : probes) {
      groups.computeIfAbsent(p.parquetSchema(), k -> new ArrayList<>()).add(p.path());
    }
    Map<String, String> fileKeys = new java.util.HashMap<>(keys);
    JavaRDD<Row> all = null;
    for (List<String> group : groups.values()) {
      Dataset<Row> df = spark.read().parquet(group.toArray(String[]::new))
          .select(col("*"), col("_metadata.file_path").as("_pf"), col("_metadata.row_index").as("_pr"));
      JavaRDD<Row> rows = df.toJavaRDD().mapPartitions(it -> {
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
          Row r = it.next();
          // _metadata gives the file as a URI; the rejects table names it as the listing does.
          String file = new org.apache.hadoop.fs.Path(java.net.URI.create(r.getString(r.fieldIndex("_pf")))).toString();
          long rowNumber = r.getLong(r.fieldIndex("_pr")) + 1;
          String key = fileKeys.getOrDefault(file, new org.apache.hadoop.fs.Path(file).getName());
          out.add(toResult(converter.convert(RowValues.fromRow(r), file, key, rowNumber, conf.value()), file, rowNumber));
        }
        return out.iterator();
      });
      all = all == null ? rows : all.union(rows);
    }
    return all;
  }

  private static Row fileError(String file, long rowNumber, String message) {
    Object[] v = new Object[RESULT.fields().length];
    int n = SampleSchema.SCHEMA.fields().length;
    v[n] = file;
    v[n + 1] = rowNumber;
    v[n + 6] = message;
    return RowFactory.create(v);
  }

  private static Row reject(String file, long rowNumber, String rowId, RejectReason reason, String detail) {
    Object[] v = new Object[RESULT.fields().length];
    int n = SampleSchema.SCHEMA.fields().length;
    v[n] = file;
    v[n + 1] = rowNumber;
    v[n + 2] = rowId;
    v[n + 3] = reason.wireName();
    v[n + 4] = detail;
    return RowFactory.create(v);
  }

  private static Row toResult(RecordConverter.Outcome outcome, String file, long rowNumber) {
    if (outcome.rejection() != null) {
      return reject(file, rowNumber, outcome.rejection().rowId(), outcome.rejection().reason(), outcome.rejection().detail());
    }
    Row canonical = SampleSchema.toRow(outcome.sample(), outcome.response(), null);
    Object[] v = new Object[RESULT.fields().length];
    for (int i = 0; i < canonical.length(); i++) {
      v[i] = canonical.get(i);
    }
    int n = canonical.length();
    v[n] = file;
    v[n + 1] = rowNumber;
    v[n + 2] = outcome.sample().id();
    v[n + 5] = outcome.contentHash();
    return RowFactory.create(v);
  }

  private static String summaryJson(PrepareSummary s, PrepareOptions o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inputs", o.inputs());
    m.put("ids_from", s.idsFrom());
    m.put("read", s.read());
    m.put("kept", s.kept());
    m.put("rejected", s.rejected());
    m.put("rejected_by_reason", s.rejectedByReason());
    m.put("seconds", s.seconds());
    m.put("output_bytes", s.outputBytes());
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

}
