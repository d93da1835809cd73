package io.perlspark.jobs.prepare;

import io.perlspark.jobs.PerlUserException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * The input files of a prepare run, listed once on the driver: a file named on the command line is
 * taken as it is; a folder (or glob) is expanded recursively to its data files, skipping names that
 * start with {@code _} or {@code .} as Spark does. Listing up front lets every reader work on an
 * explicit file list, lets {@code --incremental} record what it processed, and turns a missing input
 * into a clear error instead of a Spark stack trace.
 */
final class InputFiles {
  private InputFiles() {}

  /**
   * One input file as seen when listed: its qualified path, length and modification time (ms), and
   * its name relative to the input it was listed under (the file name for a file named directly):
   * row ids derived from file and row use that name, so they do not depend on where the data sits.
   */
  record InputFile(String path, long size, long modified, String key) implements Serializable {
    InputFile(String path, long size, long modified) {
      this(path, size, modified, new Path(path).getName());
    }
  }

  /** The files and the format they are read as ({@code jsonl} or {@code parquet}). */
  record Listing(List<InputFile> files, String format) {}

  static Listing list(List<String> inputs, String format, Configuration conf) {
    Map<String, InputFile> files = new LinkedHashMap<>();
    for (String input : inputs) {
      try {
        Path p = new Path(input);
        FileSystem fs = p.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(p);
        if (matches == null || matches.length == 0) {
          throw new PerlUserException("--input " + input + ": does not exist");
        }
        for (FileStatus m : matches) {
          if (m.isFile()) {
            add(files, m, m.getPath().getName());
            continue;
          }
          List<FileStatus> inFolder = folder(fs, m.getPath(), format);
          if (inFolder.isEmpty()) {
            throw new PerlUserException("--input " + input + ": no " + wanted(format) + " files under " + m.getPath());
          }
          String root = m.getPath().toUri().getPath();
          for (FileStatus f : inFolder) {
            String below = f.getPath().toUri().getPath().substring(root.length());
            add(files, f, below.startsWith("/") ? below.substring(1) : below);
          }
        }
      } catch (IOException e) {
        throw new PerlUserException("--input " + input + ": cannot list: " + e.getMessage(), e);
      }
    }
    List<InputFile> list = new ArrayList<>(files.values());
    return new Listing(list, format.equals("auto") ? detect(list) : format);
  }

  private static void add(Map<String, InputFile> files, FileStatus st, String key) {
    String path = st.getPath().toString();
    files.putIfAbsent(path, new InputFile(path, st.getLen(), st.getModificationTime(), key));
  }

  /**
   * The data files under a folder, sorted by path: those with the format's extension; when there is
   * none and the format may be Parquet (Hive-style part names), every visible file, as Spark reads it.
   */
  private static List<FileStatus> folder(FileSystem fs, Path dir, String format) throws IOException {
    List<FileStatus> visible = new ArrayList<>();
    String root = dir.toUri().getPath();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
    while (it.hasNext()) {
      LocatedFileStatus st = it.next();
      String below = st.getPath().toUri().getPath().substring(root.length());
      if (!hidden(below)) {
        visible.add(st);
      }
    }
    visible.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
    List<FileStatus> matching = new ArrayList<>();
    for (FileStatus st : visible) {
      if (matches(st.getPath().getName(), format)) {
        matching.add(st);
      }
    }
    return matching.isEmpty() && !format.equals("jsonl") ? visible : matching;
  }

  /** Whether a path below the listed folder has a component Spark would skip. */
  private static boolean hidden(String below) {
    for (String part : below.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String name, String format) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(".gz")) {
      n = n.substring(0, n.length() - 3);
    }
    boolean json = n.endsWith(".jsonl") || n.endsWith(".json");
    boolean parquet = n.endsWith(".parquet");
    return switch (format) {
      case "jsonl" -> json;
      case "parquet" -> parquet;
      default -> json || parquet;
    };
  }

  private static String wanted(String format) {
    return switch (format) {
      case "jsonl" -> ".jsonl/.json (or .gz)";
      case "parquet" -> "Parquet";
      default -> ".parquet, .jsonl or .json (or .jsonl.gz)";
    };
  }

  /** JSONL when every file ends in .jsonl/.json, else Parquet; a mix is refused. */
  private static String detect(List<InputFile> files) {
    long json = files.stream().filter(f -> matches(new Path(f.path()).getName(), "jsonl")).count();
    if (json > 0 && json < files.size()) {
      throw new PerlUserException("--input mixes JSONL and other files; give --format, or prepare them separately");
    }
    return json == files.size() ? "jsonl" : "parquet";
  }
}
