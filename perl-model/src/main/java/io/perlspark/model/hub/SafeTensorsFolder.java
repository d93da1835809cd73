package io.perlspark.model.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint folder's weights: {@code model.safetensors}, or {@code model.safetensors.index.json}
 * and the shards it names. Like transformers, the single file wins when both are present.
 *
 * <p>Opening checks that the index and the shards agree, so a broken download fails here with the
 * file named rather than later as a missing weight: every shard the index names exists, no shard
 * is named twice under different spellings, no tensor name appears twice in the index or in two
 * shards, and each tensor is in the shard the index says (and only indexed tensors are present).
 */
public final class SafeTensorsFolder implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Path dir;
  private final List<SafeTensors> files;
  private final Map<String, SafeTensors> byName;

  private SafeTensorsFolder(Path dir, List<SafeTensors> files, Map<String, SafeTensors> byName) {
    this.dir = dir;
    this.files = files;
    this.byName = byName;
  }

  /** True when {@code dir} holds a single file or an index. */
  public static boolean isCheckpoint(Path dir) {
    return Files.isRegularFile(dir.resolve(ShardedSafeTensorsWriter.SINGLE_FILE))
        || Files.isRegularFile(dir.resolve(ShardedSafeTensorsWriter.INDEX_FILE));
  }

  public static SafeTensorsFolder open(Path dir) throws IOException {
    Path single = dir.resolve(ShardedSafeTensorsWriter.SINGLE_FILE);
    Path index = dir.resolve(ShardedSafeTensorsWriter.INDEX_FILE);
    if (Files.isRegularFile(single)) {
      SafeTensors st = SafeTensors.open(single);
      Map<String, SafeTensors> byName = new LinkedHashMap<>();
      for (String n : st.tensors().keySet()) {
        byName.put(n, st);
      }
      return new SafeTensorsFolder(dir, List.of(st), Collections.unmodifiableMap(byName));
    }
    if (!Files.isRegularFile(index)) {
      throw new IOException(dir + ": no " + ShardedSafeTensorsWriter.SINGLE_FILE + " and no "
          + ShardedSafeTensorsWriter.INDEX_FILE);
    }
    Map<String, String> weightMap = readWeightMap(index);
    // shard names in first-seen order, each checked and opened once
    Map<String, Path> shardPaths = new LinkedHashMap<>();
    Map<Path, String> seenFiles = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      String shard = e.getValue();
      if (shardPaths.containsKey(shard)) {
        continue;
      }
      Path p = dir.resolve(shard).normalize();
      if (!p.startsWith(dir.normalize()) || p.equals(dir.normalize())) {
        throw new IOException(index + ": shard " + shard + " (for " + e.getKey()
            + ") lies outside the folder");
      }
      if (!Files.isRegularFile(p)) {
        throw new IOException(index + " names shard " + shard + " for tensor " + e.getKey()
            + ", but " + p + " does not exist");
      }
      Path real = p.toRealPath();
      String other = seenFiles.putIfAbsent(real, shard);
      if (other != null) {
        throw new IOException(index + ": shard file " + real + " is listed twice, as " + other
            + " and as " + shard);
      }
      shardPaths.put(shard, p);
    }
    List<SafeTensors> opened = new ArrayList<>();
    try {
      Map<String, SafeTensors> byName = new LinkedHashMap<>();
      Map<String, SafeTensors> byShard = new LinkedHashMap<>();
      for (Map.Entry<String, Path> s : shardPaths.entrySet()) {
        SafeTensors st = SafeTensors.open(s.getValue());
        opened.add(st);
        byShard.put(s.getKey(), st);
        for (String n : st.tensors().keySet()) {
          SafeTensors before = byName.putIfAbsent(n, st);
          if (before != null) {
            throw new IOException(dir + ": tensor " + n + " is in two shards, "
                + before.file().getFileName() + " and " + st.file().getFileName());
          }
          if (!s.getKey().equals(weightMap.get(n))) {
            throw new IOException(dir + ": tensor " + n + " is in shard " + s.getKey()
                + (weightMap.containsKey(n) ? " but the index puts it in " + weightMap.get(n)
                    : " but the index does not list it"));
          }
        }
      }
      for (Map.Entry<String, String> e : weightMap.entrySet()) {
        if (!byName.containsKey(e.getKey())) {
          throw new IOException(dir + ": the index puts tensor " + e.getKey() + " in shard "
              + e.getValue() + ", which does not contain it");
        }
      }
      // names in index order, as a loader walking the index would see them
      Map<String, SafeTensors> ordered = new LinkedHashMap<>();
      for (String n : weightMap.keySet()) {
        ordered.put(n, byName.get(n));
      }
      return new SafeTensorsFolder(dir, List.copyOf(opened), Collections.unmodifiableMap(ordered));
    } catch (IOException | RuntimeException e) {
      for (SafeTensors st : opened) {
        try {
          st.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static Map<String, String> readWeightMap(Path index) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(index.toFile());
    } catch (JsonProcessingException e) {
      // also a tensor name listed twice (duplicate key)
      throw new IOException(index + ": not a valid index: " + e.getOriginalMessage(), e);
    }
    JsonNode wm = root == null ? null : root.get("weight_map");
    if (wm == null || !wm.isObject()) {
      throw new IOException(index + ": no \"weight_map\" object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IOException(index + ": weight_map entry " + e.getKey() + " is not a file name");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  public Path dir() {
    return dir;
  }

  /** Tensor names: the index's order, or the single file's header order. */
  public List<String> names() {
    return List.copyOf(byName.keySet());
  }

  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  /** The open files, in shard order. */
  public List<SafeTensors> files() {
    return files;
  }

  /** The file holding {@code name}. */
  public SafeTensors fileOf(String name) {
    SafeTensors st = byName.get(name);
    if (st == null) {
      throw new IllegalArgumentException(dir + " has no tensor named " + name);
    }
    return st;
  }

  public SafeTensors.TensorInfo info(String name) {
    return fileOf(name).info(name);
  }

  /** Bytes of tensor data over all files (the index's {@code total_size}). */
  public long totalSize() {
    long n = 0;
    for (String name : byName.keySet()) {
      SafeTensors.TensorInfo i = info(name);
      n += i.end() - i.begin();
    }
    return n;
  }

  public NDArray load(String name, NDManager manager, DataType target) throws IOException {
    return fileOf(name).load(name, manager, target);
  }

  public NDArray loadFloat(String name, NDManager manager) throws IOException {
    return load(name, manager, DataType.FLOAT32);
  }

  /** Closes every file; the first failure is thrown after all were tried. */
  @Override
  public void close() throws IOException {
    IOException first = null;
    for (SafeTensors st : files) {
      try {
        st.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
