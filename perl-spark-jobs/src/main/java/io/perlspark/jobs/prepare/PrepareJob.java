package io.perlspark.jobs.prepare;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.data.RejectReason;
import io.perlspark.jobs.cli.PerlUserException;
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
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

/**
 * {@code perl prepare}: reads HF / EasyR1 / verl-style Parquet or JSONL + an image root, validates
 * every row (DESIGN.md §5), embeds and checks the images, and writes canonical sharded Parquet plus a
 * rejects table with each bad row's file, row and reason. Nothing is dropped silently: read = kept +
 * rejected. The output folder appears all at once (staged, then renamed).
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
    RESULT = DataTypes.createStructType(fields);
  }

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
    RecordConverter converter = new RecordConverter(o.mapping(), o.limits(), o.resize(), o.imageRoot(), o.defaultAnswerKind());
    SerializableConfiguration conf = new SerializableConfiguration(hadoop);

    JavaRDD<Row> results = switch (format(o)) {
      case "jsonl" -> readJsonl(spark, o.inputs(), converter, conf);
      case "parquet" -> readParquet(spark, o.inputs(), converter, conf);
      default -> throw new IllegalStateException();
    };
    Dataset<Row> all = spark.createDataFrame(results, RESULT).persist();
    try {
      Dataset<Row> valid = all.filter(col("_reason").isNull());
      // The first occurrence of an id (by file, then row) is kept; later ones are rejected.
      Dataset<Row> ranked = valid.withColumn("_rank",
          row_number().over(Window.partitionBy("id").orderBy("_source_file", "_row_number"))).persist();
      Dataset<Row> kept = ranked.filter(col("_rank").equalTo(1)).select(SampleSchema.columns())
          .repartitionByRange(o.shards(), col("id")).sortWithinPartitions("id");
      Dataset<Row> duplicates = ranked.filter(col("_rank").gt(1)).select(
          col("id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
          lit(RejectReason.DUPLICATE_ID.wireName()).as("reason"),
          lit("id already seen earlier in the input (first occurrence kept)").as("detail"));
      Dataset<Row> rejects = all.filter(col("_reason").isNotNull()).select(
          col("_row_id").as("row_id"), col("_row_number").as("row_number"), col("_source_file").as("source_file"),
          col("_reason").as("reason"), col("_detail").as("detail")).unionByName(duplicates)
          .repartition(1).sortWithinPartitions("source_file", "row_number");

      spark.createDataFrame(kept.rdd(), SampleSchema.SCHEMA).write().parquet(out.staged("data"));
      rejects.write().parquet(out.staged("rejects"));

      long read = all.count();
      Map<String, Long> byReason = new LinkedHashMap<>();
      for (Row r : spark.read().parquet(out.staged("rejects")).groupBy("reason").count().collectAsList()) {
        byReason.put(r.getString(0), r.getLong(1));
      }
      long keptCount = spark.read().parquet(out.staged("data")).count();
      ranked.unpersist();
      long bytes = out.stagedSize();
      PrepareSummary summary = new PrepareSummary(read, keptCount, byReason, (System.nanoTime() - t0) / 1e9, bytes);
      out.writeStagedText("summary.json", summaryJson(summary, o));
      out.commit();
      return summary;
    } catch (RuntimeException e) {
      out.abort();
      throw e;
    } finally {
      all.unpersist();
    }
  }

  private static String format(PrepareOptions o) {
    if (!o.format().equals("auto")) {
      return o.format();
    }
    boolean allJsonl = o.inputs().stream().allMatch(p -> p.endsWith(".jsonl") || p.endsWith(".json"));
    boolean anyJsonl = o.inputs().stream().anyMatch(p -> p.endsWith(".jsonl") || p.endsWith(".json"));
    if (anyJsonl && !allJsonl) {
      throw new PerlUserException("--input mixes JSONL and other files; give --format, or prepare them separately");
    }
    return allJsonl ? "jsonl" : "parquet";
  }

  private static JavaRDD<Row> readJsonl(SparkSession spark, List<String> inputs, RecordConverter converter,
      SerializableConfiguration conf) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // Whole files per task so that every row gets its exact line number; large inputs come sharded.
    JavaRDD<Tuple2<String, PortableDataStream>> files = jsc.binaryFiles(String.join(",", inputs)).rdd().toJavaRDD();
    return files.flatMap(f -> jsonlFile(f._1(), f._2(), converter, conf.value()));
  }

  private static Iterator<Row> jsonlFile(String file, PortableDataStream stream, RecordConverter converter,
      Configuration hadoop) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    try (InputStream in = new BufferedInputStream(stream.open())) {
      long line = 0;
      byte[] bytes;
      while ((bytes = nextLine(in)) != null) {
        line++;
        String text;
        try {
          text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
          rows.add(reject(file, line, "line " + line, RejectReason.INVALID_UTF8, "line is not valid UTF-8"));
          continue;
        }
        if (text.isBlank()) {
          continue;
        }
        Map<String, Object> rec;
        try {
          JsonNode node = json.readTree(text);
          if (node == null || !node.isObject()) {
            rows.add(reject(file, line, "line " + line, RejectReason.MALFORMED_ROW, "line is not a JSON object"));
            continue;
          }
          rec = RowValues.fromJson(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          rows.add(reject(file, line, "line " + line, RejectReason.MALFORMED_ROW,
              "not valid JSON: " + e.getOriginalMessage()));
          continue;
        }
        rows.add(toResult(converter.convert(rec, file, line, hadoop), file, line));
      }
    }
    return rows.iterator();
  }

  private static byte[] nextLine(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int b;
    boolean any = false;
    while ((b = in.read()) >= 0) {
      any = true;
      if (b == '\n') {
        break;
      }
      buf.write(b);
    }
    if (!any) {
      return null;
    }
    byte[] out = buf.toByteArray();
    if (out.length > 0 && out[out.length - 1] == '\r') {
      return java.util.Arrays.copyOf(out, out.length - 1);
    }
    return out;
  }

  private static JavaRDD<Row> readParquet(SparkSession spark, List<String> inputs, RecordConverter converter,
      SerializableConfiguration conf) {
    Dataset<Row> df = spark.read().parquet(inputs.toArray(String[]::new))
        .select(col("*"), col("_metadata.file_path").as("_pf"), col("_metadata.row_index").as("_pr"));
    return df.toJavaRDD().mapPartitions(it -> {
      List<Row> rows = new ArrayList<>();
      while (it.hasNext()) {
        Row r = it.next();
        String file = r.getString(r.fieldIndex("_pf"));
        long rowNumber = r.getLong(r.fieldIndex("_pr")) + 1;
        rows.add(toResult(converter.convert(RowValues.fromRow(r), file, rowNumber, conf.value()), file, rowNumber));
      }
      return rows.iterator();
    });
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
    return RowFactory.create(v);
  }

  private static String summaryJson(PrepareSummary s, PrepareOptions o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inputs", o.inputs());
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
