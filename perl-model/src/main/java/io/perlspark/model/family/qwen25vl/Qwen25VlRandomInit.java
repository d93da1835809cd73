package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.common.Seeds;
import io.perlspark.model.hub.SafeTensorsWriter;
import io.perlspark.model.hub.ShardedSafeTensorsWriter;
import io.perlspark.model.policy.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a seeded, randomly initialised Qwen2.5-VL checkpoint folder in the Hub's format, for users
 * and tests without downloadable weights ({@code perl init-model}): {@code config.json} as given,
 * {@code generation_config.json}, the tokenizer and processor files copied from a folder, and the
 * weights as {@code model.safetensors} (or shards + index) under the Hub's key names.
 *
 * <p>Initialisation follows transformers' {@code _init_weights} for this family: matrices,
 * embeddings and the patch convolution from N(0, {@code initializer_range}), biases 0, RMSNorm
 * weights 1. Each tensor draws from PyTorch's generator seeded with (seed, tensor index), so a
 * folder is reproducible on the same libtorch, and tensors are generated one at a time in native
 * memory (a 3B model never passes through the Java heap).
 */
public final class Qwen25VlRandomInit {
  /** Files copied from the tokenizer folder when present ({@code tokenizer.json} is required). */
  public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
      "chat_template.json", "chat_template.jinja", "preprocessor_config.json", "vocab.json", "merges.txt");

  private static final ObjectMapper JSON = new ObjectMapper();

  private Qwen25VlRandomInit() {}

  /** What was written. */
  public record Summary(Path folder, long parameters, List<Path> weightFiles, long weightBytes) {}

  /**
   * @param configJson a Qwen2.5-VL {@code config.json} (either layout); written unchanged except
   *     {@code torch_dtype}
   * @param tokenizerFolder holds {@code tokenizer.json} and optionally the other {@link #TOKENIZER_FILES}
   * @param dtype the weights' storage type (the Hub's checkpoints are BF16)
   */
  public static Summary write(Path configJson, Path tokenizerFolder, Path out, long seed,
      SafeTensorsWriter.Dtype dtype, long maxShardBytes) throws IOException {
    JsonNode root = JSON.readTree(configJson.toFile());
    Path generation = configJson.resolveSibling("generation_config.json");
    Qwen25VlConfig config = Qwen25VlConfig.fromJson(root,
        Files.exists(generation) ? JSON.readTree(generation.toFile()) : null);
    if (!Files.isRegularFile(tokenizerFolder.resolve("tokenizer.json"))) {
      throw new IllegalArgumentException(tokenizerFolder + " has no tokenizer.json");
    }
    double std = initializerRange(root);
    Files.createDirectories(out);

    ObjectNode written = root.deepCopy();
    written.put("torch_dtype", dtype == SafeTensorsWriter.Dtype.BF16 ? "bfloat16"
        : dtype == SafeTensorsWriter.Dtype.F16 ? "float16" : "float32");
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("config.json").toFile(), written);
    if (Files.exists(generation)) {
      Files.copy(generation, out.resolve("generation_config.json"), StandardCopyOption.REPLACE_EXISTING);
    } else {
      Map<String, Object> gen = new LinkedHashMap<>();
      gen.put("bos_token_id", 151643);
      gen.put("eos_token_id", config.eosTokenIds());
      gen.put("pad_token_id", 151643);
      JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("generation_config.json").toFile(), gen);
    }
    for (String f : TOKENIZER_FILES) {
      Path from = tokenizerFolder.resolve(f);
      if (Files.isRegularFile(from)) {
        Files.copy(from, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }

    LinkedHashMap<String, Shape> shapes = Qwen25VlWeights.expected(config);
    List<SafeTensorsWriter.Spec> specs = new ArrayList<>();
    Map<String, Integer> index = new LinkedHashMap<>();
    long params = 0;
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      index.put(e.getKey(), index.size());
      specs.add(SafeTensorsWriter.Spec.of(e.getKey(), dtype, e.getValue()));
      params += e.getValue().size();
    }
    ShardedSafeTensorsWriter.Result result;
    // PyTorch's generator is process-wide: one writer at a time.
    synchronized (Engines.TRAINING_LOCK) {
      result = ShardedSafeTensorsWriter.write(out, specs, maxShardBytes, (spec, scratch) ->
          tensor(spec.name(), new Shape(spec.shape()), index.get(spec.name()), seed, std, scratch));
    }
    return new Summary(out, params, result.files(), result.totalSize());
  }

  /**
   * The same initialisation straight into {@code manager}'s device, in {@link
   * Qwen25VlWeights#expected} order (float32), with no file: for benchmarks of large models that
   * should not write or read gigabytes first. The values equal {@link #write}'s on the same
   * libtorch and device type (CUDA's generator differs from the CPU's).
   */
  public static LinkedHashMap<String, NDArray> arrays(
      Qwen25VlConfig config, double initializerRange, long seed, NDManager manager) {
    LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
    int i = 0;
    // PyTorch's generator is process-wide: one initialisation at a time.
    synchronized (Engines.TRAINING_LOCK) {
      try {
        for (Map.Entry<String, Shape> e : Qwen25VlWeights.expected(config).entrySet()) {
          out.put(e.getKey(), tensor(e.getKey(), e.getValue(), i++, seed, initializerRange, manager));
        }
      } catch (RuntimeException e) {
        out.values().forEach(NDArray::close);
        throw e;
      }
    }
    return out;
  }

  /** {@code initializer_range} of a config.json (0.02 when absent, as in transformers). */
  public static double initializerRange(Path configJson) throws IOException {
    return initializerRange(JSON.readTree(configJson.toFile()));
  }

  /** Tensor {@code index} (in expected order) of a seeded init; the caller holds TRAINING_LOCK. */
  private static NDArray tensor(String name, Shape shape, int index, long seed, double std,
      NDManager manager) {
    if (isNormWeight(name)) {
      return manager.ones(shape, DataType.FLOAT32);
    }
    if (name.endsWith(".bias")) {
      return manager.zeros(shape, DataType.FLOAT32);
    }
    long tensorSeed = Seeds.derive(seed, 0x1417_0000L + index);
    Engines.engine().setRandomSeed((int) (tensorSeed ^ (tensorSeed >>> 32)));
    return manager.randomNormal(0f, (float) std, shape, DataType.FLOAT32);
  }

  private static boolean isNormWeight(String name) {
    return name.endsWith("layernorm.weight") || name.endsWith("norm1.weight") || name.endsWith("norm2.weight")
        || name.equals("model.norm.weight") || name.equals("visual.merger.ln_q.weight");
  }

  private static double initializerRange(JsonNode root) {
    JsonNode text = root.has("text_config") ? root.get("text_config") : root;
    JsonNode r = text.has("initializer_range") ? text.get("initializer_range") : root.get("initializer_range");
    return r == null ? 0.02 : r.asDouble();
  }
}
