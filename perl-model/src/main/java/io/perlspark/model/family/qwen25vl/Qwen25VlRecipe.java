package io.perlspark.model.family.qwen25vl;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.model.checkpoint.BaseFingerprint;
import io.perlspark.model.checkpoint.RemoteFolder;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.hub.SafeTensors;
import io.perlspark.model.hub.SafeTensorsFolder;
import io.perlspark.model.hub.SafeTensorsWriter;
import io.perlspark.model.hub.ShardedSafeTensorsWriter;
import io.perlspark.model.lora.LoraAdapters;
import io.perlspark.model.lora.LoraConfig;
import io.perlspark.model.lora.LoraMerge;
import io.perlspark.model.lora.PeftAdapterIO;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How to build a run's Qwen2.5-VL policy: the checkpoint folder ({@code model.path}, a local folder
 * or a Hadoop URI with the driver's file-system settings), its {@code config.json} and {@code
 * generation_config.json} as text (small; they fix the sizes, so equal recipes build equal models
 * and {@link #checkParameters} needs no file), the image processor's {@code max_pixels} override
 * (null: the folder's {@code preprocessor_config.json}), the longest sequence, and the dtype.
 *
 * <p>Weights and tokenizer stay in the folder: each JVM makes it local once ({@link
 * RemoteFolder#localFolder()}: a local path in place, a remote one copied into the model cache) and
 * reads {@code model.safetensors} (or its shards) and {@code tokenizer.json} from there.
 *
 * @param folder {@code model.path}
 * @param configJson the folder's config.json
 * @param generationConfigJson the folder's generation_config.json, or null when it has none
 * @param maxPixels override of the image processor's max_pixels, or null
 * @param maxSequenceLength the longest prompt + response ({@code model.maxSeqLen})
 * @param dtype the base weights' and the compute's type ({@code model.dtype}: float32, bfloat16
 *     or float16; see {@link Qwen25VlPrecision}); the LoRA adapters are float32
 * @param lora LoRA adapters to train instead of every parameter, or null (full fine-tuning)
 */
public record Qwen25VlRecipe(
    RemoteFolder folder,
    String configJson,
    String generationConfigJson,
    Integer maxPixels,
    int maxSequenceLength,
    String dtype,
    Lora lora)
    implements ModelRecipe {

  /**
   * A run's LoRA settings ({@code model.lora}) and the seed of the adapters' initial A (the run
   * seed), so every JVM draws the same initial adapters. Plain values, so the recipe stays
   * serialisable without the model's classes.
   *
   * @param rank r
   * @param alpha lora_alpha
   * @param targets module names, PEFT's list form
   * @param rslora scale alpha / sqrt(r)
   * @param vision also adapt the vision tower
   * @param seed seed of A's initialisation
   */
  public record Lora(int rank, double alpha, List<String> targets, boolean rslora, boolean vision,
      long seed) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Lora {
      targets = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(targets));
      config(rank, alpha, targets, rslora, vision); // fail here, not on an executor
    }

    /** The model's {@link LoraConfig}. */
    public LoraConfig config() {
      return config(rank, alpha, targets, rslora, vision);
    }

    private static LoraConfig config(int rank, double alpha, List<String> targets, boolean rslora,
        boolean vision) {
      return new LoraConfig(rank, alpha, targets, null, !vision, rslora);
    }
  }

  /** A full fine-tuning recipe (no LoRA). */
  public Qwen25VlRecipe(RemoteFolder folder, String configJson, String generationConfigJson,
      Integer maxPixels, int maxSequenceLength, String dtype) {
    this(folder, configJson, generationConfigJson, maxPixels, maxSequenceLength, dtype, null);
  }

  private static final long serialVersionUID = 1L;
  public static final String FLOAT32 = "float32";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Local copies of model folders, made once per JVM. */
  private static final Map<RemoteFolder, Path> LOCAL = new ConcurrentHashMap<>();

  public Qwen25VlRecipe {
    Objects.requireNonNull(folder, "folder");
    Objects.requireNonNull(configJson, "configJson");
    Objects.requireNonNull(dtype, "dtype");
    Qwen25VlPrecision.of(dtype); // an unknown name fails here, not on an executor
    if (maxPixels != null && maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels=" + maxPixels + " must be >= 1");
    }
    if (maxSequenceLength < 2) {
      throw new IllegalArgumentException("maxSequenceLength=" + maxSequenceLength + " must be >= 2");
    }
  }

  @Override
  public String familyName() {
    return Qwen25VlFamily.NAME;
  }

  /** The model's sizes (from the carried config text). */
  public Qwen25VlConfig config() {
    try {
      JsonNode gen = generationConfigJson == null ? null : JSON.readTree(generationConfigJson);
      return Qwen25VlConfig.fromJson(JSON.readTree(configJson), gen);
    } catch (IOException e) {
      throw new IllegalArgumentException(folder.pathOrUri() + "/config.json: " + e.getMessage(), e);
    }
  }

  /** The folder as a local directory, resolved (and copied if remote) once per JVM. */
  public Path localFolder() {
    return LOCAL.computeIfAbsent(folder, f -> {
      try {
        return f.localFolder();
      } catch (IOException e) {
        throw new UncheckedIOException("model.path " + f.pathOrUri() + ": " + e.getMessage(), e);
      }
    });
  }

  /** A {@link Qwen25VlTokenizer} (owning the processor) from the folder's tokenizer files. */
  @Override
  public Qwen25VlTokenizer newTokenizer() {
    Qwen25VlProcessor.Builder b = Qwen25VlProcessor.builder(localFolder());
    if (maxPixels != null) {
      b.maxPixels(maxPixels);
    }
    return new Qwen25VlTokenizer(b.build(), config().vocabSize());
  }

  /** {@inheritDoc} bfloat16 needs a JNI that maps it ({@link Qwen25VlPrecision}). */
  @Override
  public void checkEngine() {
    Qwen25VlPrecision.requireSupported(Qwen25VlPrecision.of(dtype));
  }

  @Override
  public Qwen25VlPolicy newModel(TextTokenizer tokenizer, Device device) {
    Objects.requireNonNull(tokenizer, "tokenizer");
    checkEngine(); // on executors too: each JVM has its own JNI
    try {
      Qwen25VlModel model = lora == null
          ? Qwen25VlModel.load(localFolder(), config(), device, null, 0,
              Qwen25VlPrecision.of(dtype))
          : Qwen25VlModel.load(localFolder(), config(), device, lora.config(), lora.seed(),
              Qwen25VlPrecision.of(dtype));
      return new Qwen25VlPolicy(model, tokenizer, maxSequenceLength, folder.pathOrUri());
    } catch (IOException e) {
      throw new UncheckedIOException("model.path " + folder.pathOrUri() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Qwen25VlPromptProcessor newPromptProcessor(TextTokenizer tokenizer) {
    if (!(tokenizer instanceof Qwen25VlTokenizer q)) {
      throw new IllegalArgumentException("a Qwen2.5-VL prompt processor needs the tokenizer of "
          + "its recipe (Qwen25VlTokenizer), got " + tokenizer);
    }
    return new Qwen25VlPromptProcessor(q.processor());
  }

  @Override
  public void checkParameters(byte[] parameters) {
    Map<String, long[]> expected = baseShapes();
    try {
      if (lora != null) {
        LoraAdapters.valuesOf(parameters, lora.rank(), loraModules());
        return;
      }
      Qwen25VlPolicy.check(parameters, expected);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "does not fit the model of " + folder.pathOrUri() + ": " + e.getMessage(), e);
    }
  }

  /** The base model's parameter names and shapes, in order (from the carried config.json). */
  Map<String, long[]> baseShapes() {
    Map<String, long[]> expected = new LinkedHashMap<>();
    Qwen25VlWeights.expected(config()).forEach((k, v) -> expected.put(k, v.getShape()));
    return expected;
  }

  /**
   * {@inheritDoc} Only the adapters are materialised (on the CPU), never the base weights; the
   * weights are written float32, as trained.
   */
  @Override
  public int exportAdapter(byte[] parameters, Path out) throws IOException {
    if (lora == null) {
      return ModelRecipe.super.exportAdapter(parameters, out);
    }
    List<LoraAdapters.Module> modules = loraModules();
    float[] values = LoraAdapters.valuesOf(parameters, lora.rank(), modules); // checks first
    LoraConfig config = lora.config();
    try (LoraAdapters adapters = LoraAdapters.create(config, modules, lora.seed(), Device.cpu())) {
      adapters.setFlat(values);
      PeftAdapterIO.write(out, adapters, config, folder.pathOrUri(),
          SafeTensorsWriter.Dtype.F32, Qwen25VlPeftNames.INSTANCE);
    }
    return modules.size();
  }

  /**
   * {@inheritDoc} Tensor by tensor: each weight is read from the base folder, merged when adapted
   * ({@link LoraMerge}, in float32), and written in the base file's storage
   * type under the file's own key, so the base is never whole in memory. A bf16/fp16 base is
   * widened exactly to float32, the float32 update added, and the sum rounded once to the stored
   * type (PEFT rounds the update to the base's type first, then adds in that type: a second
   * rounding this avoids). {@code model.dtype} plays no part: the stored type decides. Every other file of the
   * base folder (config, tokenizer, processor, chat template) is copied.
   */
  @Override
  public void exportMerged(byte[] parameters, Path out, long maxShardBytes, String dtype)
      throws IOException {
    if (lora == null) {
      ModelRecipe.super.exportMerged(parameters, out, maxShardBytes, dtype);
      return;
    }
    SafeTensorsWriter.Dtype stored = dtype == null ? null : switch (dtype) {
      case "bfloat16" -> SafeTensorsWriter.Dtype.BF16;
      case "float16" -> SafeTensorsWriter.Dtype.F16;
      case "float32" -> SafeTensorsWriter.Dtype.F32;
      default -> throw new IllegalArgumentException("dtype " + dtype
          + ": allowed: bfloat16, float16, float32 (or none: the base's)");
    };
    List<LoraAdapters.Module> modules = loraModules();
    float[] values = LoraAdapters.valuesOf(parameters, lora.rank(), modules); // checks first
    LoraConfig config = lora.config();
    Path base = localFolder();
    Files.createDirectories(out);
    try (LoraAdapters adapters = LoraAdapters.create(config, modules, lora.seed(), Device.cpu());
        SafeTensorsFolder weights =
            SafeTensorsFolder.open(base)) {
      adapters.setFlat(values);
      List<SafeTensorsWriter.Spec> specs = new java.util.ArrayList<>();
      for (String name : weights.names()) {
        SafeTensors.TensorInfo info = weights.info(name);
        var own = SafeTensorsWriter.Dtype.valueOf(info.dtype());
        boolean floating = own == SafeTensorsWriter.Dtype.BF16
            || own == SafeTensorsWriter.Dtype.F16
            || own == SafeTensorsWriter.Dtype.F32;
        if (!floating) {
          throw new IOException(name + " is stored as " + own + "; a Qwen2.5-VL folder holds"
              + " floating weights only");
        }
        specs.add(new SafeTensorsWriter.Spec(name,
            stored != null ? stored : own, info.shape()));
      }
      int[] merged = {0};
      ShardedSafeTensorsWriter.write(out, specs, maxShardBytes,
          (spec, scratch) -> {
            // float types widen to float32 exactly and are rounded back to the stored type
            ai.djl.ndarray.NDArray w = weights.loadFloat(spec.name(), scratch);
            String hub = Qwen25VlWeights.hubName(spec.name());
            String module = hub.endsWith(".weight")
                ? hub.substring(0, hub.length() - ".weight".length()) : null;
            if (module != null && adapters.has(module)) {
              merged[0]++;
              return LoraMerge.merged(scratch, w, adapters, module);
            }
            return w;
          });
      if (merged[0] != modules.size()) {
        throw new IllegalStateException("merged " + merged[0] + " of " + modules.size()
            + " adapted modules: the base folder's weight names differ from the model's");
      }
    }
    try (java.util.stream.Stream<Path> files = Files.list(base)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String n = f.getFileName().toString();
        if (Files.isRegularFile(f) && !n.endsWith(".safetensors")
            && !n.equals(ShardedSafeTensorsWriter.INDEX_FILE)) {
          Files.copy(f, out.resolve(n),
              StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Whether this recipe trains LoRA adapters only. */
  @Override
  public boolean trainsLora() {
    return lora != null;
  }

  /** Only adapters are checkpointed with LoRA, so only then does the base matter on resume. */
  @Override
  public String baseFingerprint() {
    return lora == null ? null : BaseFingerprint.of(localFolder());
  }

  /** The modules LoRA adapts, in order (empty without LoRA). */
  public List<LoraAdapters.Module> loraModules() {
    return lora == null ? List.of() : Qwen25VlModel.loraModules(lora.config(), baseShapes());
  }

  /** Values in the base model (all of them, whether or not they train). */
  @Override
  public long baseParameterCount() {
    long n = 0;
    for (long[] s : baseShapes().values()) {
      long k = 1;
      for (long d : s) {
        k *= d;
      }
      n += k;
    }
    return n;
  }

  @Override
  public String describe() {
    Qwen25VlConfig c = config();
    return Qwen25VlFamily.NAME + " " + folder.pathOrUri() + " (hidden=" + c.hiddenSize()
        + ", layers=" + c.numLayers() + ", vision depth=" + c.vision().depth() + ", " + dtype
        + (maxPixels == null ? "" : ", max_pixels=" + maxPixels) + ", maxSeqLen="
        + maxSequenceLength + (lora == null ? "" : ", LoRA r=" + lora.rank() + " alpha="
        + lora.alpha() + " on " + String.join(",", lora.targets())
        + (lora.vision() ? " incl. vision" : "") + (lora.rslora() ? ", rsLoRA" : "")) + ")";
  }
}
