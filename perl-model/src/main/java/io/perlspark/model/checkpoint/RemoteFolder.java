package io.perlspark.model.checkpoint;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;

/**
 * A model folder as it travels from the driver to executors: its path or URI, and the driver's
 * Hadoop file-system settings, so that an executor reads {@code s3a://} or {@code hdfs://} with the
 * endpoints and credentials the application was given ({@code spark.hadoop.*}), which a plain
 * {@code new Configuration()} on the executor would not have.
 *
 * <p>Only settings whose key starts with one of {@link #SETTING_PREFIXES} travel (file systems,
 * HDFS client, Hadoop security); {@link #toString()} shows none of their values.
 *
 * @param pathOrUri {@code model.path}: a local folder or a Hadoop URI
 * @param hadoopSettings the Hadoop settings to read it with
 */
public record RemoteFolder(String pathOrUri, Map<String, String> hadoopSettings)
    implements Serializable {

  /** Prefixes of the Hadoop keys that travel with a folder. */
  public static final String[] SETTING_PREFIXES = {"fs.", "dfs.", "hadoop.security.", "ipc."};

  public RemoteFolder {
    Objects.requireNonNull(pathOrUri, "pathOrUri");
    hadoopSettings = Collections.unmodifiableMap(new TreeMap<>(hadoopSettings));
  }

  /** The folder with the file-system settings of {@code conf} (the driver's). */
  public static RemoteFolder of(String pathOrUri, Configuration conf) {
    Map<String, String> settings = new TreeMap<>();
    for (Map.Entry<String, String> e : conf) {
      for (String prefix : SETTING_PREFIXES) {
        if (e.getKey().startsWith(prefix)) {
          settings.put(e.getKey(), e.getValue());
          break;
        }
      }
    }
    return new RemoteFolder(pathOrUri, settings);
  }

  /** A Hadoop configuration with the carried settings on top of this JVM's defaults. */
  public Configuration configuration() {
    Configuration conf = new Configuration();
    hadoopSettings.forEach(conf::set);
    return conf;
  }

  /** The folder as a local directory (see {@link ModelFolders#localFolder(String, Configuration)}). */
  public Path localFolder() throws IOException {
    return ModelFolders.localFolder(pathOrUri, configuration());
  }

  /** As {@link #localFolder()}, caching copies under {@code cacheRoot}. */
  public Path localFolder(Path cacheRoot) throws IOException {
    return ModelFolders.localFolder(pathOrUri, configuration(), cacheRoot);
  }

  @Override
  public String toString() {
    return "RemoteFolder(" + pathOrUri + ", " + hadoopSettings.size() + " Hadoop settings)";
  }
}
