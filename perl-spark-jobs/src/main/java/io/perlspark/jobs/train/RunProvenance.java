package io.perlspark.jobs.train;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.StageConfig;
import io.perlspark.model.checkpoint.Provenance;
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
    return new Provenance(configYaml, cfg.run().seed(), fingerprints, Provenance.detectCodeVersion(), null,
        environment);
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
