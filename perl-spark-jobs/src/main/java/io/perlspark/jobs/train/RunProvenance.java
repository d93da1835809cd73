package io.perlspark.jobs.train;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.model.checkpoint.Checkpoint;
import io.perlspark.model.checkpoint.Provenance;
import io.perlspark.model.family.ModelRecipe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/** Provenance recorded with every checkpoint: config, seed, dataset fingerprints, code version. */
final class RunProvenance {
  private RunProvenance() {}

  static Provenance of(PerlConfig cfg, String configYaml, Configuration conf) {
    return of(cfg, configYaml, conf, null);
  }

  /**
   * @param recipe the run's recipe, whose {@link ModelRecipe#baseFingerprint()} (when not null) is
   *     recorded so that a resume against another base can be refused; null records none
   */
  static Provenance of(PerlConfig cfg, String configYaml, Configuration conf, ModelRecipe recipe) {
    Map<String, String> fingerprints = new TreeMap<>();
    for (StageConfig s : cfg.stages()) {
      for (DataSource d : s.data()) {
        fingerprints.put(d.path(), fingerprint(d.path(), conf));
      }
    }
    if (cfg.model().init() != null) {
      fingerprints.put("model.init:" + cfg.model().init(), fingerprint(cfg.model().init(), conf));
    }
    if (cfg.model().path() != null) {
      fingerprints.put("model.path:" + cfg.model().path(), fingerprint(cfg.model().path(), conf));
    }
    // The family is also in the config text; a key of its own lets tools read it without parsing.
    Map<String, String> environment = new TreeMap<>(Provenance.currentEnvironment());
    environment.put(MODEL_FAMILY, cfg.model().family());
    String base = recipe == null ? null : recipe.baseFingerprint();
    if (base != null) {
      environment.put(BASE_FINGERPRINT, base);
      environment.put(BASE_PATH, String.valueOf(cfg.model().path()));
    }
    return new Provenance(configYaml, cfg.run().seed(), fingerprints, Provenance.detectCodeVersion(), null,
        environment);
  }

  /** Environment entries: the base's content fingerprint, and the model.path it was read from. */
  static final String BASE_FINGERPRINT = "model.base.fingerprint";

  static final String BASE_PATH = "model.base.path";

  /**
   * Refuses parameters of checkpoint {@code c} when they were trained on another base than the
   * current recipe's (LoRA adapters on a different base load without error but mean nothing).
   * Checkpoints that recorded no fingerprint (full fine-tunes, older runs) pass.
   *
   * @param what how the checkpoint was named, e.g. "--resume auto" or "model.init /x"
   * @param advice what the user can do instead, appended to the message
   */
  static void checkSameBase(Checkpoint c, ModelRecipe recipe, String what, String advice) {
    String recorded = c.provenance().environment().get(BASE_FINGERPRINT);
    if (recorded == null) {
      return;
    }
    String current = recipe.baseFingerprint();
    if (current != null && !current.equals(recorded)) {
      throw new PerlUserException(what + ": the checkpoint of step " + c.step()
          + " holds adapters trained on the base model.path "
          + c.provenance().environment().getOrDefault(BASE_PATH, "(unrecorded)") + " (fingerprint "
          + recorded + "), but the current model, " + recipe.describe() + ", has fingerprint "
          + current + "; adapters only fit the base they were trained on. " + advice);
    }
  }

  /** The provenance environment entry that names the run's model family. */
  static final String MODEL_FAMILY = "model.family";

  /**
   * sha256 over the sorted (relative path, size, modification time) of every file under a path:
   * cheap, and it changes whenever the data is rewritten.
   */
  static String fingerprint(String path, Configuration conf) {
    try {
      Path root = new Path(path);
      FileSystem fs = root.getFileSystem(conf);
      if (!fs.exists(root)) {
        return "missing";
      }
      List<String> entries = new ArrayList<>();
      String prefix = fs.makeQualified(root).toString();
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        String rel = f.getPath().toString().substring(Math.min(prefix.length(), f.getPath().toString().length()));
        if (rel.contains("/.") || rel.contains("/_")) {
          continue; // hidden and marker files (.crc, _SUCCESS) are not data
        }
        entries.add(rel + "\t" + f.getLen() + "\t" + f.getModificationTime());
      }
      entries.sort(null);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String e : entries) {
        sha.update(e.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      }
      return "files:" + entries.size() + ":sha256:" + HexFormat.of().formatHex(sha.digest());
    } catch (IOException | NoSuchAlgorithmException e) {
      return "unreadable: " + e.getClass().getSimpleName();
    }
  }
}
