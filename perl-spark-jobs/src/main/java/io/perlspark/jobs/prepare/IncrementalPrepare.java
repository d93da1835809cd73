package io.perlspark.jobs.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.jobs.PerlUserException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code perl prepare --incremental}: each run prepares only the input files that no earlier run
 * prepared, as one new batch of the output folder.
 *
 * <pre>
 *   out/summary.json                   the manifest: every batch with its input files (path, size,
 *                                      modification time) and counts, and the totals
 *   out/data/batch=00001/part-*.parquet   kept rows of batch 1; partition-style folder names, so a plain
 *                                      spark.read().parquet("out/data") reads every batch (plus an int
 *                                      column "batch") and DataPaths maps "out" to "out/data" as before
 *   out/data/batch=00001/_batch.json   the batch's own record (hidden from Parquet readers by the "_")
 *   out/rejects/batch=00001/           rejects of batch 1
 *   out/_staging-UUID/                 a run in progress
 * </pre>
 *
 * <p><b>Commit.</b> A run writes its batch under {@code _staging-UUID/}, renames the rejects into
 * {@code rejects/batch=N}, then the data into {@code data/batch=N}: that rename is the commit point,
 * the batch appears to readers of {@code data/} whole and at once. The manifest is rewritten last
 * (temporary file, then rename over it). A crash before the data rename leaves nothing a reader of
 * {@code data/} sees; the next run removes the leftovers and prepares those files again. A crash
 * after it leaves a complete batch that the manifest does not list yet; the next run finds its
 * {@code _batch.json} and lists it instead of preparing the files again. One writer at a time: a
 * run that finds the manifest changed under it stops before committing.
 *
 * <p><b>Changed inputs.</b> A file is known by its path; one that an earlier batch prepared and whose
 * size or modification time differ now is refused, with the file named: its earlier rows are already
 * in a batch, and reading it again would either duplicate them or lose the new ones. New rows belong
 * in new files.
 *
 * <p><b>Duplicate ids</b> across batches: a row whose id an earlier batch kept is rejected as
 * {@code duplicate_id}, naming that batch, so that the batches together stay one dataset with
 * unique ids.
 */
final class IncrementalPrepare {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalPrepare.class);

  static final String MANIFEST = "summary.json";
  static final String BATCH_RECORD = "_batch.json";
  static final String FORMAT = "perl-prepare-incremental";
  static final int VERSION = 1;
  private static final String STAGING_PREFIX = "_staging-";
  private static final Pattern BATCH_DIR = Pattern.compile("batch=(\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Test seam: called with {@code "staged"} once the batch is written under the staging folder and
   * with {@code "data-renamed"} right after the commit rename; a test throws an {@link Error} from it to
   * stop the run there the way a crash would (no cleanup).
   */
  static volatile Consumer<String> crashPoint = phase -> {};

  /** One batch as the manifest lists it. */
  record Batch(int batch, String committedAt, long read, long kept, Map<String, Long> rejectedByReason,
      double seconds, List<InputFiles.InputFile> files) {
    long rejected() {
      return rejectedByReason.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private final SparkSession spark;
  private final PrepareOptions o;
  private final Configuration conf;
  private final FileSystem fs;
  private final Path out;
  private final Path data;
  private final Path rejects;

  IncrementalPrepare(SparkSession spark, PrepareOptions o) {
    this.spark = spark;
    this.o = o;
    this.conf = spark.sparkContext().hadoopConfiguration();
    try {
      Path p = new Path(o.output());
      this.fs = p.getFileSystem(conf);
      this.out = fs.makeQualified(p);
    } catch (IOException e) {
      throw new PerlUserException("--out " + o.output() + ": " + e.getMessage(), e);
    }
    this.data = new Path(out, "data");
    this.rejects = new Path(out, "rejects");
  }

  IncrementalSummary run() {
    long t0 = System.nanoTime();
    if (o.overwrite()) {
      throw new PerlUserException("--incremental adds to " + o.output() + " and never replaces it; drop --overwrite "
          + "(to start over, prepare into a new folder)");
    }
    try {
      List<Batch> batches = open();
      List<Integer> recovered = recover(batches);
      InputFiles.Listing in = InputFiles.list(o.inputs(), o.format(), conf);
      List<InputFiles.InputFile> fresh = newFiles(in.files(), batches);
      int before = in.files().size() - fresh.size();
      if (fresh.isEmpty()) {
        return new IncrementalSummary(0, 0, before, recovered, null, totals(batches, t0), batches.size());
      }
      int n = batches.isEmpty() ? 1 : batches.get(batches.size() - 1).batch() + 1;
      Batch batch = writeBatch(n, new InputFiles.Listing(fresh, in.format()), batches, t0);
      List<Batch> now = new ArrayList<>(batches);
      now.add(batch);
      writeManifest(now);
      PrepareSummary counts = new PrepareSummary(batch.read(), batch.kept(), batch.rejectedByReason(), batch.seconds(),
          size(new Path(data, dirName(n))) + size(new Path(rejects, dirName(n))));
      return new IncrementalSummary(n, fresh.size(), before, recovered, counts, totals(now, t0), now.size());
    } catch (IOException e) {
      throw new PerlUserException("--out " + o.output() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw PrepareJob.userError(e);
    }
  }

  static String dirName(int batch) {
    return String.format("batch=%05d", batch);
  }

  /** The batches of an existing output; a new output is created with an empty manifest first. */
  private List<Batch> open() throws IOException {
    Path manifest = new Path(out, MANIFEST);
    if (!fs.exists(out) || (fs.getFileStatus(out).isDirectory() && fs.listStatus(out).length == 0)) {
      fs.mkdirs(out);
      // Written before any data, so that the folder is recognisable as a prepare output from the start.
      writeManifest(List.of());
      return new ArrayList<>();
    }
    if (!fs.exists(manifest)) {
      throw new PerlUserException("--out " + o.output() + " exists but is not an output of perl prepare --incremental (no "
          + MANIFEST + "); choose a new or an empty folder");
    }
    JsonNode m = readJson(manifest);
    if (!FORMAT.equals(m.path("format").asText())) {
      throw new PerlUserException("--out " + o.output() + " was written by perl prepare without --incremental; batches "
          + "cannot be added to it. Prepare into a new folder with --incremental");
    }
    if (m.path("version").asInt() != VERSION) {
      throw new PerlUserException("--out " + o.output() + ": " + MANIFEST + " has version " + m.path("version").asText()
          + "; this perl writes version " + VERSION);
    }
    List<Batch> batches = new ArrayList<>();
    for (JsonNode b : m.path("batches")) {
      batches.add(batchFromJson(b));
    }
    return batches;
  }

  /**
   * Brings the folder back to a committed state after an interrupted run: removes staging folders and
   * rejects without data, and lists batches committed but not yet in the manifest.
   *
   * @return the batches added to the manifest
   */
  private List<Integer> recover(List<Batch> batches) throws IOException {
    FileStatus[] staging = fs.globStatus(new Path(out, STAGING_PREFIX + "*"));
    for (FileStatus st : staging == null ? new FileStatus[0] : staging) {
      LOG.warn("removing {}, left by an interrupted perl prepare --incremental", st.getPath());
      fs.delete(st.getPath(), true);
    }
    Map<Integer, Batch> listed = new TreeMap<>();
    batches.forEach(b -> listed.put(b.batch(), b));
    for (int b : listed.keySet()) {
      if (!fs.exists(new Path(data, dirName(b)))) {
        throw new PerlUserException("--out " + o.output() + ": batch " + b + " is listed in " + MANIFEST + " but "
            + new Path(data, dirName(b)) + " is missing; the output was changed by hand. Prepare into a new folder");
      }
    }
    List<Integer> adopted = new ArrayList<>();
    for (Map.Entry<Integer, Path> e : batchDirs(data).entrySet()) {
      if (listed.containsKey(e.getKey())) {
        continue;
      }
      Path record = new Path(e.getValue(), BATCH_RECORD);
      if (fs.exists(record)) {
        Batch b = batchFromJson(readJson(record));
        listed.put(b.batch(), b);
        adopted.add(b.batch());
        LOG.warn("batch {} was committed by an interrupted run; listing it in {}", b.batch(), MANIFEST);
      } else {
        // Not from the commit above (its record is written before the rename): not a batch to keep.
        LOG.warn("removing {}: no {} in it", e.getValue(), BATCH_RECORD);
        fs.delete(e.getValue(), true);
      }
    }
    for (Map.Entry<Integer, Path> e : batchDirs(new Path(out, "lineage")).entrySet()) {
      if (!listed.containsKey(e.getKey())) {
        LOG.warn("removing {}: its batch was never committed (the run was interrupted)", e.getValue());
        fs.delete(e.getValue(), true);
      }
    }
    for (Map.Entry<Integer, Path> e : batchDirs(rejects).entrySet()) {
      if (!listed.containsKey(e.getKey())) {
        LOG.warn("removing {}: its batch was never committed (the run was interrupted)", e.getValue());
        fs.delete(e.getValue(), true);
      }
    }
    if (!adopted.isEmpty()) {
      batches.clear();
      batches.addAll(listed.values());
      writeManifest(batches);
    }
    return adopted;
  }

  private Map<Integer, Path> batchDirs(Path parent) throws IOException {
    Map<Integer, Path> dirs = new TreeMap<>();
    if (!fs.exists(parent)) {
      return dirs;
    }
    for (FileStatus st : fs.listStatus(parent)) {
      Matcher m = BATCH_DIR.matcher(st.getPath().getName());
      if (st.isDirectory() && m.matches()) {
        dirs.put(Integer.parseInt(m.group(1)), st.getPath());
      }
    }
    return dirs;
  }

  /** The input files no batch has prepared; a prepared file that has changed since is refused. */
  private List<InputFiles.InputFile> newFiles(List<InputFiles.InputFile> files, List<Batch> batches) {
    Map<String, InputFiles.InputFile> prepared = new HashMap<>();
    Map<String, Integer> preparedIn = new HashMap<>();
    for (Batch b : batches) {
      for (InputFiles.InputFile f : b.files()) {
        prepared.put(f.path(), f);
        preparedIn.put(f.path(), b.batch());
      }
    }
    List<InputFiles.InputFile> fresh = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (InputFiles.InputFile f : files) {
      InputFiles.InputFile before = prepared.get(f.path());
      if (before == null) {
        fresh.add(f);
      } else if (before.size() != f.size() || before.modified() != f.modified()) {
        changed.add("  " + f.path() + ": batch " + preparedIn.get(f.path()) + " read " + before.size() + " bytes modified "
            + Instant.ofEpochMilli(before.modified()) + "; now " + f.size() + " bytes modified " + Instant.ofEpochMilli(f.modified()));
      }
    }
    if (!changed.isEmpty()) {
      throw new PerlUserException("--incremental: " + changed.size() + " input file" + (changed.size() == 1 ? " has" : "s have")
          + " changed since a batch prepared " + (changed.size() == 1 ? "it" : "them") + ":" + System.lineSeparator()
          + String.join(System.lineSeparator(), changed) + System.lineSeparator()
          + "Their earlier rows are already in the output, so they are not read again. Put new rows in new files, or "
          + "prepare all inputs into a new folder. This run prepared nothing.");
    }
    return fresh;
  }

  private Batch writeBatch(int n, InputFiles.Listing in, List<Batch> batches, long t0) throws IOException {
    Path staging = new Path(out, STAGING_PREFIX + UUID.randomUUID());
    fs.mkdirs(staging);
    try {
      Dataset<Row> earlier = null;
      if (!batches.isEmpty()) {
        String[] dirs = batches.stream().map(b -> new Path(data, dirName(b.batch())).toString()).toArray(String[]::new);
        earlier = spark.read().option("basePath", data.toString()).parquet(dirs).select("id", "batch");
      }
      PrepareJob.Counts c = PrepareJob.process(spark, o, in, PrepareJob.qualifiedImageRoot(o.imageRoot(), conf), earlier,
          new Path(staging, "data").toString(), new Path(staging, "rejects").toString(),
          new Path(staging, "lineage").toString());
      Batch batch = new Batch(n, Instant.now().toString(), c.read(), c.kept(), c.rejectedByReason(),
          (System.nanoTime() - t0) / 1e9, in.files());
      writeJson(new Path(new Path(staging, "data"), BATCH_RECORD), batchJson(batch));
      crashPoint.accept("staged");
      if (readBatchCount() != batches.size()) {
        throw new PerlUserException("another perl prepare --incremental committed to " + o.output()
            + " while this run worked; nothing of this run was kept. Run it again");
      }
      fs.mkdirs(data);
      fs.mkdirs(rejects);
      rename(new Path(staging, "rejects"), new Path(rejects, dirName(n)));
      Path lineage = new Path(out, "lineage");
      fs.mkdirs(lineage);
      rename(new Path(staging, "lineage"), new Path(lineage, dirName(n)));
      rename(new Path(staging, "data"), new Path(data, dirName(n)));
      crashPoint.accept("data-renamed");
      delete(staging);
      return batch;
    } catch (Exception e) {
      // Exception, not only RuntimeException: Spark's SparkException is a checked one. An Error (a simulated crash in tests, or OOM) skips this like a real crash would.
      delete(staging);
      throw e;
    }
  }

  private void delete(Path staging) {
    try {
      fs.delete(staging, true);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {} (the next run removes it)", staging, e.getMessage());
    }
  }

  private int readBatchCount() throws IOException {
    return readJson(new Path(out, MANIFEST)).path("batches").size();
  }

  private void rename(Path from, Path to) throws IOException {
    if (fs.exists(to)) {
      throw new PerlUserException(to + " appeared while this run worked (another writer?); nothing was committed");
    }
    if (!fs.rename(from, to)) {
      throw new IOException("cannot rename " + from + " to " + to);
    }
  }

  /** Replaces the manifest in one step: a temporary file renamed over it (atomic on HDFS and local disks). */
  private void writeManifest(List<Batch> batches) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT);
    m.put("version", VERSION);
    long read = 0;
    long kept = 0;
    Map<String, Long> byReason = new TreeMap<>();
    for (Batch b : batches) {
      read += b.read();
      kept += b.kept();
      b.rejectedByReason().forEach((k, v) -> byReason.merge(k, v, Long::sum));
    }
    m.put("read", read);
    m.put("kept", kept);
    m.put("rejected", byReason.values().stream().mapToLong(Long::longValue).sum());
    m.set("rejected_by_reason", JSON.valueToTree(byReason));
    ArrayNode list = m.putArray("batches");
    batches.forEach(b -> list.add(batchJson(b)));
    Path tmp = new Path(out, "_" + MANIFEST + ".tmp-" + UUID.randomUUID());
    writeJson(tmp, m);
    FileContext.getFileContext(out.toUri(), conf).rename(tmp, new Path(out, MANIFEST), Options.Rename.OVERWRITE);
  }

  private PrepareSummary totals(List<Batch> batches, long t0) throws IOException {
    long read = 0;
    long kept = 0;
    Map<String, Long> byReason = new TreeMap<>();
    for (Batch b : batches) {
      read += b.read();
      kept += b.kept();
      b.rejectedByReason().forEach((k, v) -> byReason.merge(k, v, Long::sum));
    }
    return new PrepareSummary(read, kept, byReason, (System.nanoTime() - t0) / 1e9, size(out));
  }

  private long size(Path p) throws IOException {
    return fs.exists(p) ? fs.getContentSummary(p).getLength() : 0;
  }

  private static ObjectNode batchJson(Batch b) {
    ObjectNode n = JSON.createObjectNode();
    n.put("batch", b.batch());
    n.put("committed_at", b.committedAt());
    n.put("read", b.read());
    n.put("kept", b.kept());
    n.put("rejected", b.rejected());
    n.set("rejected_by_reason", JSON.valueToTree(b.rejectedByReason()));
    n.put("seconds", b.seconds());
    ArrayNode files = n.putArray("files");
    for (InputFiles.InputFile f : b.files()) {
      files.addObject().put("path", f.path()).put("key", f.key()).put("size", f.size()).put("modified", f.modified());
    }
    return n;
  }

  private static Batch batchFromJson(JsonNode n) {
    Map<String, Long> byReason = new TreeMap<>();
    n.path("rejected_by_reason").properties().forEach(e -> byReason.put(e.getKey(), e.getValue().asLong()));
    List<InputFiles.InputFile> files = new ArrayList<>();
    for (JsonNode f : n.path("files")) {
      String path = f.path("path").asText();
      files.add(new InputFiles.InputFile(path, f.path("size").asLong(), f.path("modified").asLong(),
          f.path("key").asText(new Path(path).getName())));
    }
    return new Batch(n.path("batch").asInt(), n.path("committed_at").asText(), n.path("read").asLong(),
        n.path("kept").asLong(), byReason, n.path("seconds").asDouble(), files);
  }

  private JsonNode readJson(Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return JSON.readTree(in);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new PerlUserException(p + " is not valid JSON (" + e.getOriginalMessage() + "); the output was changed by hand", e);
    }
  }

  private void writeJson(Path p, JsonNode n) throws IOException {
    try (OutputStream os = fs.create(p, false)) {
      os.write(JSON.writeValueAsBytes(n));
    }
  }
}
