package io.perlspark.model.checkpoint;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a checkpoint came from: enough to reproduce or audit the run, and never a secret — the
 * configuration text is passed through {@link ConfigRedactor#redact} on construction, and the map
 * entries through {@link ConfigRedactor#redactInline}, so no instance can hold one.
 *
 * @param configText the run configuration (YAML or JSON), redacted
 * @param runSeed the run's seed
 * @param datasetFingerprints dataset name or URI → fingerprint (e.g. a content hash)
 * @param codeVersion git commit, or "unknown"
 * @param createdAt ISO-8601 instant
 * @param environment JVM, OS and engine facts
 */
public record Provenance(
    String configText,
    long runSeed,
    Map<String, String> datasetFingerprints,
    String codeVersion,
    String createdAt,
    Map<String, String> environment)
    implements Serializable {

  /** System property, then environment variable, that name the code version explicitly. */
  public static final String CODE_VERSION_PROPERTY = "perlspark.codeVersion";

  public static final String CODE_VERSION_ENV = "PERLSPARK_CODE_VERSION";

  public Provenance {
    configText = ConfigRedactor.redact(configText == null ? "" : configText);
    datasetFingerprints = cleanMap(datasetFingerprints);
    codeVersion = codeVersion == null || codeVersion.isBlank() ? "unknown" : ConfigRedactor.redactInline(codeVersion);
    createdAt = createdAt == null ? Instant.now().toString() : createdAt;
    environment = cleanMap(environment);
  }

  /** Provenance of the current process: detected code version, now, this JVM's environment. */
  public static Provenance of(String configText, long runSeed, Map<String, String> datasetFingerprints) {
    return new Provenance(
        configText, runSeed, datasetFingerprints, detectCodeVersion(), Instant.now().toString(), currentEnvironment());
  }

  /**
   * The code version: {@value #CODE_VERSION_PROPERTY} system property, else {@value
   * #CODE_VERSION_ENV}, else the commit of a git checkout containing the working directory, else
   * "unknown".
   */
  public static String detectCodeVersion() {
    String v = System.getProperty(CODE_VERSION_PROPERTY);
    if (v == null || v.isBlank()) {
      v = System.getenv(CODE_VERSION_ENV);
    }
    if (v == null || v.isBlank()) {
      v = gitCommit(Paths.get(System.getProperty("user.dir", ".")));
    }
    return v == null || v.isBlank() ? "unknown" : v.trim();
  }

  /**
   * JVM, OS and DJL facts of this process (no host names, user names or paths); callers add the
   * engine version and device through the record's constructor when they have them.
   */
  public static Map<String, String> currentEnvironment() {
    Map<String, String> env = new TreeMap<>();
    for (String key : new String[] {"java.version", "java.vendor", "java.vm.name", "os.name", "os.arch"}) {
      env.put(key, System.getProperty(key, "unknown"));
    }
    env.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    // Names only: Engine.getInstance() would load libtorch on a driver that may not need it.
    try {
      env.put("djl.version", Engine.getDjlVersion());
      env.put("djl.engine", Engine.getDefaultEngineName());
    } catch (RuntimeException | LinkageError e) {
      env.put("djl.engine", "unavailable");
    }
    return env;
  }

  /** Reads HEAD of the nearest enclosing git checkout without running git; null if none. */
  static String gitCommit(Path start) {
    try {
      for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
        Path git = dir.resolve(".git");
        if (!Files.isDirectory(git)) {
          continue;
        }
        String head = Files.readString(git.resolve("HEAD"), StandardCharsets.UTF_8).trim();
        if (!head.startsWith("ref: ")) {
          return head;
        }
        String ref = head.substring(5).trim();
        Path loose = git.resolve(ref);
        if (Files.isRegularFile(loose)) {
          return Files.readString(loose, StandardCharsets.UTF_8).trim();
        }
        Path packed = git.resolve("packed-refs");
        if (Files.isRegularFile(packed)) {
          for (String line : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
            if (line.endsWith(" " + ref)) {
              return line.substring(0, line.indexOf(' '));
            }
          }
        }
        return null;
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  private static Map<String, String> cleanMap(Map<String, String> in) {
    Map<String, String> out = new TreeMap<>();
    if (in != null) {
      in.forEach((k, v) -> out.put(ConfigRedactor.redactInline(k), ConfigRedactor.redactInline(v)));
    }
    return Collections.unmodifiableMap(out);
  }
}
