package io.perlspark.jobs.spark;

import io.perlspark.jobs.PerlUserException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * An output folder that appears all at once: a job writes into a staging folder beside the target,
 * and {@link #commit()} renames it into place (atomic on HDFS and local file systems), so a reader or
 * a scheduler never sees a partial output. {@link #abort()} removes the staging folder.
 */
public final class AtomicOutput {
  private final FileSystem fs;
  private final Path target;
  private final Path staging;
  private final boolean overwrite;

  private AtomicOutput(FileSystem fs, Path target, Path staging, boolean overwrite) {
    this.fs = fs;
    this.target = target;
    this.staging = staging;
    this.overwrite = overwrite;
  }

  public static AtomicOutput begin(String output, boolean overwrite, Configuration conf) {
    try {
      Path target = new Path(output);
      FileSystem fs = target.getFileSystem(conf);
      target = fs.makeQualified(target);
      if (fs.exists(target) && !overwrite) {
        throw new PerlUserException("output " + output + " already exists; choose another folder or pass --overwrite");
      }
      Path staging = new Path(target.getParent(), "." + target.getName() + ".staging-" + UUID.randomUUID());
      fs.mkdirs(staging);
      return new AtomicOutput(fs, target, staging, overwrite);
    } catch (IOException e) {
      throw new PerlUserException("cannot prepare output " + output + ": " + e.getMessage(), e);
    }
  }

  /** Where a job writes the part named {@code name} before the commit. */
  public String staged(String name) {
    return new Path(staging, name).toString();
  }

  public void writeStagedText(String name, String text) {
    try (OutputStream os = fs.create(new Path(staging, name), true)) {
      os.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + name + " into " + staging, e);
    }
  }

  public long stagedSize() {
    try {
      return fs.getContentSummary(staging).getLength();
    } catch (IOException e) {
      return -1;
    }
  }

  public String target() {
    return target.toString();
  }

  public void commit() {
    try {
      if (fs.exists(target)) {
        if (!overwrite) {
          throw new PerlUserException("output " + target + " appeared while the job ran; not replacing it");
        }
        fs.delete(target, true);
      }
      if (!fs.rename(staging, target)) {
        throw new IOException("rename " + staging + " -> " + target + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot commit output " + target, e);
    }
  }

  public void abort() {
    try {
      fs.delete(staging, true);
    } catch (IOException ignored) {
      // best effort: a leftover staging folder is hidden (dot name) and never read
    }
  }
}
