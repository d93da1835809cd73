package io.perlspark.model.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.perlspark.model.hub.SafeTensorsWriter.Dtype;
import io.perlspark.model.hub.SafeTensorsWriter.Spec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes a checkpoint folder as transformers' {@code save_pretrained} does: one
 * {@code model.safetensors} when everything fits in one shard, otherwise
 * {@code model-00001-of-0000N.safetensors} files plus {@code model.safetensors.index.json}.
 *
 * <p>Shards are filled as {@code huggingface_hub.split_torch_state_dict_into_shards} fills them, in
 * the given tensor order: a tensor that would push the current shard over the limit starts a new
 * one; a tensor larger than the limit gets a shard of its own. Sizes are tensor bytes only (headers
 * not counted), so a shard file may exceed the limit by its header. Tensors are produced one at a
 * time by a {@link Source}, so the whole checkpoint never has to exist in memory at once.
 */
public final class ShardedSafeTensorsWriter {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";
  /** transformers' default {@code max_shard_size="5GB"} (decimal). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

  private ShardedSafeTensorsWriter() {}

  /** Produces the array of one declared tensor; arrays made in {@code scratch} are freed after. */
  @FunctionalInterface
  public interface Source {
    NDArray get(Spec spec, NDManager scratch) throws IOException;
  }

  /** What was written: files in shard order and the index's {@code total_size}. */
  public record Result(List<Path> files, long totalSize, Map<String, String> weightMap) {}

  /** Splits tensors into shards (lists of specs, in order) as huggingface_hub does. */
  public static List<List<Spec>> plan(List<Spec> specs, long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("max shard size must be positive: " + maxShardBytes);
    }
    List<List<Spec>> shards = new ArrayList<>();
    List<Spec> current = new ArrayList<>();
    long currentSize = 0;
    for (Spec s : specs) {
      long size = s.byteSize();
      if (size > maxShardBytes) {
        shards.add(List.of(s));
        continue;
      }
      if (currentSize + size > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        currentSize = 0;
      }
      current.add(s);
      currentSize += size;
    }
    if (!current.isEmpty()) {
      shards.add(current);
    }
    return shards;
  }

  /** Writes arrays held in memory; floating ones stored as {@code floatDtype}. */
  public static Result write(Path dir, Map<String, NDArray> tensors, Dtype floatDtype,
      long maxShardBytes) throws IOException {
    List<Spec> specs = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      specs.add(Spec.of(e.getKey(), Dtype.of(e.getValue().getDataType(), floatDtype),
          e.getValue().getShape()));
    }
    return write(dir, specs, maxShardBytes, (spec, scratch) -> tensors.get(spec.name()));
  }

  /**
   * Writes {@code specs} (in this order) into {@code dir}, asking {@code source} for each array
   * once. Earlier {@code model*.safetensors} files and the index left by another save are removed
   * first, as transformers does, so a reader never mixes two saves.
   */
  public static Result write(Path dir, List<Spec> specs, long maxShardBytes, Source source)
      throws IOException {
    Set<String> names = new HashSet<>();
    for (Spec s : specs) {
      if (!names.add(s.name())) {
        throw new IllegalArgumentException("tensor " + s.name() + " is declared twice");
      }
    }
    List<List<Spec>> shards = plan(specs, maxShardBytes);
    Files.createDirectories(dir);
    removePreviousSave(dir);
    int count = shards.size();
    List<Path> files = new ArrayList<>();
    Map<String, String> weightMap = new TreeMap<>(ShardedSafeTensorsWriter::compareCodePoints);
    long total = 0;
    for (int i = 0; i < Math.max(count, 1); i++) {
      List<Spec> shard = count == 0 ? List.of() : shards.get(i);
      String name = count <= 1 ? SINGLE_FILE
          : String.format("model-%05d-of-%05d.safetensors", i + 1, count);
      Path file = dir.resolve(name);
      try (SafeTensorsWriter w = SafeTensorsWriter.create(file, shard, Map.of("format", "pt"))) {
        for (Spec s : shard) {
          try (NDManager scratch = NDManager.newBaseManager()) {
            NDArray a = source.get(s, scratch);
            if (a == null) {
              throw new IOException("no array for tensor " + s.name());
            }
            w.write(s.name(), a);
          }
          weightMap.put(s.name(), name);
          total += s.byteSize();
        }
      }
      files.add(file);
    }
    if (count > 1) {
      Files.writeString(dir.resolve(INDEX_FILE), indexJson(total, weightMap), StandardCharsets.UTF_8);
    }
    return new Result(List.copyOf(files), total, weightMap);
  }

  private static void removePreviousSave(Path dir) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.equals(SINGLE_FILE) || n.equals(INDEX_FILE) || SHARD_NAME.matcher(n).matches()) {
          Files.delete(p);
        }
      }
    }
  }

  /**
   * The index as transformers writes it: {@code json.dumps(index, indent=2, sort_keys=True) + "\n"}
   * (Python's separators and ASCII-only escapes).
   */
  static String indexJson(long totalSize, Map<String, String> sortedWeightMap) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n");
    sb.append("  \"weight_map\": {");
    boolean first = true;
    for (Map.Entry<String, String> e : sortedWeightMap.entrySet()) {
      sb.append(first ? "\n" : ",\n").append("    ");
      SafeTensorsWriter.jsonString(sb, e.getKey(), true).append(": ");
      SafeTensorsWriter.jsonString(sb, e.getValue(), true);
      first = false;
    }
    sb.append(first ? "}" : "\n  }").append("\n}\n");
    return sb.toString();
  }

  /** Python's str order (code points), which sort_keys uses. */
  private static int compareCodePoints(String a, String b) {
    return SafeTensorsWriter.compareUtf8(a, b);
  }
}
