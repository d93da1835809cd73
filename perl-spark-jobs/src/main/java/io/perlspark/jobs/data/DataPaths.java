package io.perlspark.jobs.data;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Where a dataset named in a config or on the command line really lives. */
public final class DataPaths {
  private DataPaths() {}

  /**
   * The canonical Parquet folder of a data path: the path itself, or its {@code data/} when it is
   * the output folder of {@code perl prepare} or {@code perl filter}; null when it does not exist.
   * ({@code perl prepare --incremental} writes {@code data/batch=N/} folders, which a Parquet read
   * of {@code data/} takes as one dataset with an extra {@code batch} column.)
   */
  public static String resolve(String path, Configuration conf) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        return null;
      }
      Path data = new Path(p, "data");
      if (fs.exists(new Path(p, "summary.json")) && fs.exists(data)) {
        return data.toString();
      }
      return p.toString();
    } catch (IOException e) {
      return null;
    }
  }
}
