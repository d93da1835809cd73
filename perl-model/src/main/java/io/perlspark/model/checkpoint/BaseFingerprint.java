package io.perlspark.model.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A content fingerprint of a Hugging Face model folder, for adapters (LoRA) that are only meaningful
 * on the base they were trained on: sha256 over {@code config.json} and, for each {@code
 * *.safetensors} file in name order, its name, size, header (tensor names, dtypes, shapes, offsets)
 * and the first and last {@value #SAMPLE} bytes of its tensor data.
 *
 * <p>Why not hash everything: shards are many GB and this runs on every checkpoint and resume. Why
 * not sizes and headers only: two fine-tunes of one architecture have identical headers and sizes;
 * the sampled data bytes (the first and last tensors of each shard) tell them apart. Modification
 * times are left out on purpose, so a copy of the same base (another machine, the model cache)
 * matches.
 */
public final class BaseFingerprint {
  /** Bytes of tensor data sampled at each end of a shard. */
  static final int SAMPLE = 1 << 20;

  private BaseFingerprint() {}

  /** {@code sha256:<hex>} of the folder; never null. */
  public static String of(Path folder) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      Path config = folder.resolve("config.json");
      if (Files.isRegularFile(config)) {
        update(sha, "config.json");
        sha.update(Files.readAllBytes(config));
      }
      List<Path> shards;
      try (Stream<Path> files = Files.list(folder)) {
        shards = files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
      }
      for (Path shard : shards) {
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
          long size = ch.size();
          update(sha, shard.getFileName() + "\t" + size);
          ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
          read(ch, len, 0);
          long headerLen = size >= 8 ? len.getLong(0) : 0;
          long dataStart = Math.min(size, 8 + Math.max(0, headerLen));
          hashRange(sha, ch, 0, dataStart); // length + header
          long firstEnd = Math.min(size, dataStart + SAMPLE);
          hashRange(sha, ch, dataStart, firstEnd);
          hashRange(sha, ch, Math.max(firstEnd, size - SAMPLE), size);
        }
      }
      return "sha256:" + HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint model folder " + folder + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void update(MessageDigest sha, String s) {
    sha.update(s.getBytes(StandardCharsets.UTF_8));
    sha.update((byte) '\n');
  }

  private static void hashRange(MessageDigest sha, FileChannel ch, long from, long to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    for (long pos = from; pos < to; ) {
      buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
      int n = ch.read(buf, pos);
      if (n <= 0) {
        break;
      }
      buf.flip();
      sha.update(buf);
      pos += n;
    }
  }

  private static void read(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining() && ch.read(buf, pos + buf.position()) > 0) {
      // fill
    }
  }
}
