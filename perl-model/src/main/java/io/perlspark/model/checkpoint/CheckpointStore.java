package io.perlspark.model.checkpoint;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.model.learn.AdamW;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints in a directory on any Hadoop file system (file://, hdfs://, s3a://, …):
 *
 * <pre>
 *   base/step-000123/params.bin        the caller's parameter bytes, verbatim
 *                    optimizer.bin     AdamW state (binary, see AdamW.State#writeTo)
 *                    state.json        {"step": 123, "trainerState": {...}}
 *                    provenance.json   Provenance (config redacted)
 *                    manifest.json     size and sha256 of each file above
 * </pre>
 *
 * <p><b>Atomicity.</b> A save writes everything, manifest last, into {@code
 * _tmp-step-000123-<uuid>/} and then renames that directory to {@code step-000123}. On HDFS and on
 * local file systems a directory rename is atomic, so a crash leaves either the complete
 * checkpoint or a temporary directory that is never listed (and that {@link #cleanTemporary}
 * removes). On S3 (s3a) a directory rename is a copy followed by a delete, not atomic: a crash in
 * the middle can leave a partial {@code step-…} directory. Loading verifies every file against the
 * manifest, so such a directory fails verification and {@link #loadLatestValid} falls back to the
 * previous checkpoint. Where losing the newest checkpoint to a crash matters, keep checkpoints on
 * a file system with atomic directory rename (HDFS, local or NFS).
 *
 * <p>The store uses its own {@link FileSystem} instance (closed by {@link #close}) with Hadoop's
 * .crc side files turned off; the manifest's sha256 is the integrity check.
 */
public final class CheckpointStore implements Closeable {
  public static final String PARAMS = "params.bin";
  public static final String OPTIMIZER = "optimizer.bin";
  public static final String STATE = "state.json";
  public static final String PROVENANCE = "provenance.json";
  public static final String MANIFEST = "manifest.json";
  /** The files every checkpoint has, in writing order (the manifest comes after them). */
  public static final List<String> FILES = List.of(PARAMS, OPTIMIZER, STATE, PROVENANCE);

  static final String FORMAT = "perl-spark-checkpoint";
  static final int VERSION = 1;
  static final String TMP_PREFIX = "_tmp-";
  static final String OLD_PREFIX = "_old-";
  private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)");
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private final FileSystem fs;
  private final Path base;

  /**
   * @param baseUri the directory holding the checkpoints; a path without a scheme resolves against
   *     {@code fs.defaultFS} (the local file system by default)
   * @param conf Hadoop configuration (e.g. Spark's {@code sparkContext.hadoopConfiguration()})
   */
  public CheckpointStore(String baseUri, Configuration conf) throws IOException {
    if (baseUri == null || baseUri.isBlank()) {
      throw new IllegalArgumentException("checkpoint directory must be set");
    }
    Path p = new Path(baseUri);
    this.fs = FileSystem.newInstance(p.toUri(), conf);
    this.fs.setWriteChecksum(false);
    this.fs.setVerifyChecksum(false);
    this.base = fs.makeQualified(p);
  }

  /** The checkpoint directory name of a step: {@code step-000123}. */
  public static String dirName(long step) {
    return String.format("step-%06d", step);
  }

  /** The fully qualified directory of a step. */
  public Path stepPath(long step) {
    return new Path(base, dirName(step));
  }

  public Path base() {
    return base;
  }

  /**
   * Writes a checkpoint atomically (see the class comment). A checkpoint of the same step is
   * replaced.
   *
   * @return the final directory
   */
  public Path save(Checkpoint c) throws IOException {
    String name = dirName(c.step());
    fs.mkdirs(base);
    Path tmp = new Path(base, TMP_PREFIX + name + "-" + UUID.randomUUID());
    if (!fs.mkdirs(tmp)) {
      throw new IOException("cannot create temporary checkpoint directory " + tmp);
    }
    try {
      Map<String, JsonNode> entries = new LinkedHashMap<>();
      entries.put(PARAMS, write(tmp, PARAMS, c.parameters()));
      entries.put(OPTIMIZER, write(tmp, OPTIMIZER, optimizerBytes(c.optimizerState())));
      entries.put(STATE, write(tmp, STATE, stateJson(c)));
      entries.put(PROVENANCE, write(tmp, PROVENANCE, JSON.writeValueAsBytes(c.provenance())));
      ObjectNode manifest = JSON.createObjectNode();
      manifest.put("format", FORMAT);
      manifest.put("version", VERSION);
      manifest.put("step", c.step());
      manifest.put("createdAt", Instant.now().toString());
      ObjectNode files = manifest.putObject("files");
      entries.forEach(files::set);
      write(tmp, MANIFEST, JSON.writeValueAsBytes(manifest));

      Path target = stepPath(c.step());
      Path old = null;
      if (fs.exists(target)) {
        // Hadoop's rename moves a directory *into* an existing one, so the old one goes aside first.
        old = new Path(base, OLD_PREFIX + name + "-" + UUID.randomUUID());
        rename(target, old);
      }
      rename(tmp, target);
      if (old != null) {
        fs.delete(old, true);
      }
      LOG.info("saved checkpoint {} ({} bytes of parameters)", target, c.parameters().length);
      return target;
    } catch (IOException | RuntimeException e) {
      try {
        fs.delete(tmp, true);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The steps of the checkpoint directories present (verified or not), ascending. */
  public List<Long> steps() throws IOException {
    List<Long> steps = new ArrayList<>();
    for (FileStatus st : list()) {
      Matcher m = STEP_DIR.matcher(st.getPath().getName());
      if (st.isDirectory() && m.matches()) {
        steps.add(Long.parseLong(m.group(1)));
      }
    }
    Collections.sort(steps);
    return steps;
  }

  /**
   * Loads and verifies a checkpoint.
   *
   * @throws CheckpointException if it is missing, its manifest is missing or unreadable, or a file
   *     is missing, has the wrong size or the wrong sha256, or cannot be parsed; the message names
   *     the checkpoint directory and the file
   */
  public Checkpoint load(long step) throws IOException {
    Path dir = stepPath(step);
    if (!fs.exists(dir)) {
      throw new CheckpointException("checkpoint " + dir + " does not exist (steps present: " + steps() + ")");
    }
    Path manifestPath = new Path(dir, MANIFEST);
    if (!fs.exists(manifestPath)) {
      throw new CheckpointException(
          "checkpoint " + dir + ": " + MANIFEST + " is missing (incomplete save or not a checkpoint)");
    }
    JsonNode manifest;
    try {
      manifest = JSON.readTree(readAll(manifestPath));
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is not valid JSON: " + e.getMessage(), e);
    }
    if (!FORMAT.equals(manifest.path("format").asText()) || manifest.path("version").asInt(-1) != VERSION) {
      throw new CheckpointException(
          "checkpoint " + dir + ": " + MANIFEST + " has format '" + manifest.path("format").asText() + "' version "
              + manifest.path("version").asText() + "; expected '" + FORMAT + "' version " + VERSION);
    }
    if (manifest.path("step").asLong(-1) != step) {
      throw new CheckpointException(
          "checkpoint " + dir + ": " + MANIFEST + " is for step " + manifest.path("step").asText() + ", not " + step);
    }
    JsonNode files = manifest.path("files");
    for (String required : FILES) {
      if (!files.has(required)) {
        throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " does not list " + required);
      }
    }
    Map<String, byte[]> content = new LinkedHashMap<>();
    for (var entry : files.properties()) {
      content.put(entry.getKey(), verified(dir, entry.getKey(), entry.getValue()));
    }

    AdamW.State optimizer;
    try {
      optimizer = AdamW.State.readFrom(new DataInputStream(new ByteArrayInputStream(content.get(OPTIMIZER))));
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + OPTIMIZER + " cannot be read: " + e.getMessage(), e);
    }
    Map<String, String> trainerState;
    try {
      JsonNode state = JSON.readTree(content.get(STATE));
      if (state.path("step").asLong(-1) != step) {
        throw new IOException("it is for step " + state.path("step").asText());
      }
      trainerState = JSON.convertValue(state.path("trainerState"), new TypeReference<Map<String, String>>() {});
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + STATE + " cannot be read: " + e.getMessage(), e);
    }
    Provenance provenance;
    try {
      provenance = JSON.readValue(content.get(PROVENANCE), Provenance.class);
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + PROVENANCE + " cannot be read: " + e.getMessage(), e);
    }
    return new Checkpoint(step, content.get(PARAMS), optimizer, trainerState, provenance);
  }

  /**
   * The newest checkpoint that verifies, skipping (and logging) corrupt or incomplete ones; empty
   * when there is none. Removes temporary directories left by interrupted saves first. This is
   * what {@code --resume auto} uses.
   */
  public Optional<Checkpoint> loadLatestValid() throws IOException {
    cleanTemporary();
    List<Long> steps = steps();
    for (int i = steps.size() - 1; i >= 0; i--) {
      try {
        return Optional.of(load(steps.get(i)));
      } catch (CheckpointException e) {
        LOG.warn("skipping checkpoint step {}: {}", steps.get(i), e.getMessage());
      }
    }
    return Optional.empty();
  }

  /**
   * Deletes all but the {@code k} newest checkpoints (by step) and any temporary directories.
   *
   * @return the deleted steps
   */
  public List<Long> keepLast(int k) throws IOException {
    if (k < 1) {
      throw new IllegalArgumentException("keepLast needs k >= 1, got " + k);
    }
    cleanTemporary();
    List<Long> steps = steps();
    List<Long> deleted = new ArrayList<>();
    for (int i = 0; i < steps.size() - k; i++) {
      fs.delete(stepPath(steps.get(i)), true);
      deleted.add(steps.get(i));
    }
    if (!deleted.isEmpty()) {
      LOG.info("deleted old checkpoints {}", deleted);
    }
    return deleted;
  }

  /**
   * Removes directories left by interrupted saves. Call it only when no save is running against
   * this directory (the trainer is the only writer).
   *
   * @return how many were removed
   */
  public int cleanTemporary() throws IOException {
    int removed = 0;
    for (FileStatus st : list()) {
      String n = st.getPath().getName();
      if (st.isDirectory() && (n.startsWith(TMP_PREFIX) || n.startsWith(OLD_PREFIX))) {
        LOG.info("removing leftover of an interrupted checkpoint save: {}", st.getPath());
        fs.delete(st.getPath(), true);
        removed++;
      }
    }
    return removed;
  }

  @Override
  public void close() throws IOException {
    fs.close();
  }

  private FileStatus[] list() throws IOException {
    try {
      return fs.listStatus(base);
    } catch (FileNotFoundException e) {
      return new FileStatus[0];
    }
  }

  private byte[] verified(Path dir, String name, JsonNode expected) throws IOException {
    Path file = new Path(dir, name);
    if (!fs.exists(file)) {
      throw new CheckpointException("checkpoint " + dir + ": " + name + " is missing (listed in " + MANIFEST + ")");
    }
    long expectedSize = expected.path("size").asLong(-1);
    long actualSize = fs.getFileStatus(file).getLen();
    if (actualSize != expectedSize) {
      throw new CheckpointException(
          "checkpoint " + dir + ": " + name + " has " + actualSize + " bytes but " + MANIFEST + " says "
              + expectedSize + " (truncated or overwritten)");
    }
    byte[] bytes;
    try {
      bytes = readAll(file);
    } catch (IOException e) {
      throw new CheckpointException("checkpoint " + dir + ": " + name + " cannot be read: " + e.getMessage(), e);
    }
    String expectedHash = expected.path("sha256").asText();
    String actualHash = sha256(bytes);
    if (bytes.length != expectedSize || !actualHash.equals(expectedHash)) {
      throw new CheckpointException(
          "checkpoint " + dir + ": " + name + " is corrupt: sha256 is " + actualHash + " but " + MANIFEST + " says "
              + expectedHash);
    }
    return bytes;
  }

  private JsonNode write(Path dir, String name, byte[] bytes) throws IOException {
    try (OutputStream out = fs.create(new Path(dir, name), false)) {
      out.write(bytes);
    }
    ObjectNode entry = JSON.createObjectNode();
    entry.put("size", bytes.length);
    entry.put("sha256", sha256(bytes));
    return entry;
  }

  private void rename(Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("cannot rename " + from + " to " + to);
    }
  }

  private byte[] readAll(Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return in.readAllBytes();
    }
  }

  private static byte[] optimizerBytes(AdamW.State state) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 8 * state.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      state.writeTo(out);
    }
    return bytes.toByteArray();
  }

  private static byte[] stateJson(Checkpoint c) throws IOException {
    ObjectNode state = JSON.createObjectNode();
    state.put("step", c.step());
    state.set("trainerState", JSON.valueToTree(c.trainerState()));
    return JSON.writeValueAsBytes(state);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
