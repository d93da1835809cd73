package io.perlspark.model.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Makes a model folder ({@code model.path}) readable as a local directory: a local path is used in
 * place; a URI ({@code hdfs://}, {@code s3a://}, {@code file://}, ...) is read through Hadoop's
 * FileSystem, like checkpoints, and copied once into a local cache.
 *
 * <p>The cache entry is named by a hash of the qualified URI and every file's relative path, size
 * and modification time, so a changed model gets a new entry and an unchanged one is never copied
 * twice. A copy is written under a temporary name and renamed into place whole, so concurrent
 * copies (several executors on one host) never see a half-written folder; the loser of a race
 * discards its copy and uses the winner's. A {@code file://} URI is copied like a remote one (write
 * a plain path to use a local folder in place).
 */
public final class ModelFolders {
  private ModelFolders() {}

  /** System property, then environment variable, that name the cache root. */
  public static final String CACHE_PROPERTY = "perl.modelCache";

  public static final String CACHE_ENV = "PERL_MODEL_CACHE";

  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

  /**
   * The cache root: {@value #CACHE_PROPERTY}, else {@value #CACHE_ENV}, else {@code
   * perl-model-cache} in the JVM's temporary directory.
   */
  public static Path defaultCacheRoot() {
    String root = System.getProperty(CACHE_PROPERTY);
    if (root == null || root.isBlank()) {
      root = System.getenv(CACHE_ENV);
    }
    if (root == null || root.isBlank()) {
      return Paths.get(System.getProperty("java.io.tmpdir"), "perl-model-cache");
    }
    return Paths.get(root);
  }

  /** As {@link #localFolder(String, Configuration, Path)} with the {@link #defaultCacheRoot()}. */
  public static Path localFolder(String pathOrUri, Configuration conf) throws IOException {
    return localFolder(pathOrUri, conf, defaultCacheRoot());
  }

  /**
   * A local directory with the content of {@code pathOrUri}.
   *
   * @param pathOrUri a local folder (returned unchanged) or a Hadoop URI of a folder (copied)
   * @param cacheRoot where copies live; created if missing
   * @throws IOException when the folder does not exist, is a file, or cannot be copied (the
   *     message names it)
   */
  public static Path localFolder(String pathOrUri, Configuration conf, Path cacheRoot)
      throws IOException {
    if (!isUri(pathOrUri)) {
      Path local = Paths.get(pathOrUri);
      if (!Files.isDirectory(local)) {
        throw new IOException(
            pathOrUri + (Files.exists(local) ? " is not a folder" : " does not exist")
                + " (model.path must be a model's folder)");
      }
      return local;
    }
    org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(pathOrUri);
    FileSystem fs = remote.getFileSystem(conf);
    FileStatus status;
    try {
      status = fs.getFileStatus(remote);
    } catch (java.io.FileNotFoundException e) {
      throw new IOException(pathOrUri + " does not exist (model.path must be a model's folder)", e);
    }
    if (!status.isDirectory()) {
      throw new IOException(pathOrUri + " is not a folder (model.path must be a model's folder)");
    }
    String root = fs.makeQualified(remote).toString();
    List<RemoteFile> files = list(fs, remote, root);
    Path target = cacheRoot.resolve(entryName(remote.getName(), root, files));
    if (Files.isDirectory(target)) {
      return target; // only complete copies are ever renamed into place
    }
    Files.createDirectories(cacheRoot);
    Path staging = cacheRoot.resolve(".tmp-" + target.getFileName() + "-" + UUID.randomUUID());
    try {
      copy(fs, files, staging);
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
        // Another JVM finished the same copy first; its folder has the same content.
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the model cache " + cacheRoot + " does not support atomic renames", e);
      }
      return target;
    } finally {
      deleteRecursively(staging);
    }
  }

  /** A path with a scheme of two or more letters ({@code C:\} is a drive, not a scheme). */
  static boolean isUri(String pathOrUri) {
    return URI_SCHEME.matcher(pathOrUri).find();
  }

  private record RemoteFile(org.apache.hadoop.fs.Path path, String relative, long length, long mtime) {}

  private static List<RemoteFile> list(FileSystem fs, org.apache.hadoop.fs.Path remote, String root)
      throws IOException {
    List<RemoteFile> out = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(remote, true);
    while (it.hasNext()) {
      LocatedFileStatus f = it.next();
      String qualified = f.getPath().toString();
      String relative = qualified.substring(Math.min(root.length(), qualified.length()));
      while (relative.startsWith("/")) {
        relative = relative.substring(1);
      }
      if (relative.isEmpty()) {
        throw new IOException("unexpected file " + qualified + " under " + root);
      }
      out.add(new RemoteFile(f.getPath(), relative, f.getLen(), f.getModificationTime()));
    }
    out.sort(Comparator.comparing(RemoteFile::relative));
    return out;
  }

  /** {@code <folder name>-<hash of URI and every file's path, size and mtime>}. */
  private static String entryName(String folderName, String root, List<RemoteFile> files) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sha.update(root.getBytes(StandardCharsets.UTF_8));
    for (RemoteFile f : files) {
      String line = "\n" + f.relative() + "\t" + f.length() + "\t" + f.mtime();
      sha.update(line.getBytes(StandardCharsets.UTF_8));
    }
    String safe = folderName.replaceAll("[^A-Za-z0-9._-]", "_");
    if (safe.isEmpty() || safe.startsWith(".")) {
      safe = "model" + safe;
    }
    return safe.toLowerCase(Locale.ROOT) + "-" + HexFormat.of().formatHex(sha.digest(), 0, 12);
  }

  private static void copy(FileSystem fs, List<RemoteFile> files, Path staging) throws IOException {
    Files.createDirectories(staging);
    for (RemoteFile f : files) {
      Path local = staging.resolve(f.relative()).normalize();
      if (!local.startsWith(staging)) {
        throw new IOException("file " + f.relative() + " would land outside the cache folder");
      }
      Files.createDirectories(local.getParent());
      try (InputStream in = fs.open(f.path())) {
        Files.copy(in, local);
      }
      long copied = Files.size(local);
      if (copied != f.length()) {
        throw new IOException(
            "copied " + copied + " of " + f.length() + " bytes of " + f.path()
                + " (did it change while being read?)");
      }
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // Best effort: a leftover ".tmp-" folder is never read (only renamed entries are).
    }
  }
}
