package io.perlspark.jobs.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.jobs.PerlUserException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Looks into every input file before any row is read, in one small Spark job: can it be opened, is
 * it the declared format, and which columns does it have. The driver then stops on an unreadable file
 * (exit 2, one line naming it) or on a {@code --map} column the input does not have, before any work
 * is written; a mistake found only after an hour of reading rows would waste the hour.
 */
public final class InputProbe {
  private InputProbe() {}

  /** Lines of a JSONL file looked at for its columns (rows may differ; a sample is enough to catch a typo). */
  static final int JSONL_SAMPLE_LINES = 50;
  /** Bytes looked at for binary content (a NUL byte never occurs in JSON text). */
  static final int BINARY_SNIFF_BYTES = 64 * 1024;

  /**
   * What was found in one file.
   *
   * @param problem why the file cannot be read as its format, or null
   * @param columns top-level columns (Parquet schema; JSONL: keys of the sampled rows)
   * @param parquetSchema the Parquet footer schema (files are read in groups of equal schema), or null
   */
  public record FileProbe(String path, String problem, List<String> columns, String parquetSchema)
      implements Serializable {}

  static List<FileProbe> probe(SparkSession spark, List<String> files, String format) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    SerializableConfiguration conf = new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
    int slices = Math.max(1, Math.min(files.size(), 8 * jsc.defaultParallelism()));
    boolean jsonl = format.equals("jsonl");
    return jsc.parallelize(files, slices)
        .map(f -> jsonl ? jsonl(f, conf.value()) : parquet(f, conf.value()))
        .collect();
  }

  /** Stops with one clear line when a file cannot be read as its format. */
  static void requireReadable(List<FileProbe> probes) {
    for (FileProbe p : probes) {
      if (p.problem() != null) {
        throw new PerlUserException("--input: " + p.path() + " " + p.problem()
            + "; nothing was written (remove the file from the input, or fix it, and run again)");
      }
    }
  }

  /** Every column any file has, sorted. */
  static Set<String> columns(List<FileProbe> probes) {
    Set<String> all = new TreeSet<>();
    probes.forEach(p -> all.addAll(p.columns()));
    return all;
  }

  private static FileProbe parquet(String file, Configuration conf) {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf))) {
      MessageType schema = reader.getFooter().getFileMetaData().getSchema();
      List<String> columns = new ArrayList<>();
      for (Type t : schema.getFields()) {
        columns.add(t.getName());
      }
      return new FileProbe(file, null, columns, schema.toString());
    } catch (java.io.FileNotFoundException e) {
      return new FileProbe(file, "cannot be read: " + message(e), List.of(), null);
    } catch (IOException | RuntimeException e) {
      String why = message(e);
      if (why.contains("Permission denied") || why.contains("AccessDenied")) {
        return new FileProbe(file, "cannot be read: " + why, List.of(), null);
      }
      return new FileProbe(file, "is not a readable Parquet file (" + why
          + "); give --format jsonl if it is JSONL", List.of(), null);
    }
  }

  private static FileProbe jsonl(String file, Configuration conf) {
    try (InputStream in = openText(new Path(file), conf)) {
      in.mark(BINARY_SNIFF_BYTES);
      byte[] head = in.readNBytes(BINARY_SNIFF_BYTES);
      in.reset();
      if (head.length >= 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1') {
        return new FileProbe(file, "is Parquet, not JSONL; give --format parquet or prepare it separately", List.of(), null);
      }
      for (int i = 0; i < head.length; i++) {
        if (head[i] == 0) {
          return new FileProbe(file, "is not JSONL text: it holds binary data (a NUL byte at offset " + i + ")",
              List.of(), null);
        }
      }
      Set<String> columns = new LinkedHashSet<>();
      ObjectMapper json = new ObjectMapper();
      int seen = 0;
      byte[] line;
      while (seen < JSONL_SAMPLE_LINES && (line = JsonlLines.next(in)) != null) {
        String text = new String(JsonlLines.withoutBom(line), StandardCharsets.UTF_8);
        if (text.isBlank()) {
          continue;
        }
        seen++;
        try {
          JsonNode node = json.readTree(text);
          if (node != null && node.isObject()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
              columns.add(it.next());
            }
          }
        } catch (IOException | RuntimeException malformed) {
          // A bad line is a reject of its own later; here only the columns matter.
        }
      }
      return new FileProbe(file, null, new ArrayList<>(columns), null);
    } catch (IOException | RuntimeException e) {
      return new FileProbe(file, "cannot be read: " + message(e), List.of(), null);
    }
  }

  /**
   * A JSONL file's bytes, decompressed when it starts with gzip's magic bytes (1F 8B) whatever its
   * name; concatenated gzip members (as {@code cat a.gz b.gz} makes) are read as one stream.
   */
  static InputStream openText(Path p, Configuration conf) throws IOException {
    InputStream raw = new BufferedInputStream(p.getFileSystem(conf).open(p), 1 << 16);
    try {
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
      }
      return raw;
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  static String message(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  /** Reads physical lines as bytes (the decoder is strict per line, so bytes come first). */
  static final class JsonlLines {
    private JsonlLines() {}

    /** The next line without its line end, or null at the end of the stream. */
    static byte[] next(InputStream in) throws IOException {
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

    /** A UTF-8 byte order mark (Windows tools write one) is not part of the first row. */
    static byte[] withoutBom(byte[] b) {
      if (b.length >= 3 && (b[0] & 0xff) == 0xEF && (b[1] & 0xff) == 0xBB && (b[2] & 0xff) == 0xBF) {
        return java.util.Arrays.copyOfRange(b, 3, b.length);
      }
      return b;
    }
  }
}
