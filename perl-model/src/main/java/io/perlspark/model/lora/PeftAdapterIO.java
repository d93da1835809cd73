package io.perlspark.model.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.perlspark.model.hub.SafeTensors;
import io.perlspark.model.hub.SafeTensorsWriter;
import io.perlspark.model.hub.SafeTensorsWriter.Dtype;
import io.perlspark.model.hub.SafeTensorsWriter.Spec;
import io.perlspark.model.policy.Engines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LoRA adapters as a PEFT adapter folder, the format PEFT ({@code PeftModel.from_pretrained}),
 * transformers ({@code load_adapter}) and vLLM ({@code --enable-lora}, {@code LoRARequest}) load.
 *
 * <p>Conventions, checked against the sources (huggingface/peft at 5d602fd, vllm-project/vllm):
 * <ul>
 *   <li>Files {@code adapter_config.json} and {@code adapter_model.safetensors}
 *       (peft/utils/constants.py CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME).
 *   <li>Tensor names {@code base_model.model.<module>.lora_A.weight} / {@code .lora_B.weight}:
 *       PeftModel wraps LoraModel ({@code base_model}) wrapping the transformers model ({@code
 *       model}); the adapter name ({@code default}) is removed on save
 *       (peft/utils/save_and_load.py get_peft_model_state_dict). vLLM strips {@code
 *       base_model.model.} and {@code .lora_A.weight}/{@code .lora_B.weight} to find the module
 *       (vllm/lora/utils.py parse_fine_tuned_lora_name). {@code <module>} is the module's name on
 *       the live transformers model, which can differ from the checkpoint's key names: a
 *       family maps its names through {@link PeftModuleNames} (Qwen2.5-VL: {@code
 *       model.language_model.layers...}, {@code model.visual...}; checked by loading with PEFT
 *       0.21 + transformers 5.18, {@code bench/hf-load-check.sh}).
 *   <li>Shapes: {@code lora_A} is {@code nn.Linear(in, r)}'s weight {@code [r, in]}, {@code lora_B}
 *       is {@code nn.Linear(r, out)}'s {@code [out, r]}; no biases ({@code bias: "none"}, {@code
 *       lora_bias} false).
 *   <li>Config fields: peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, lora_dropout,
 *       target_modules (list or regex string), bias, use_rslora, use_dora, fan_in_fan_out,
 *       init_lora_weights, modules_to_save, rank_pattern, alpha_pattern, layers_to_transform,
 *       layers_pattern, base_model_name_or_path, revision, inference_mode (peft/config.py
 *       PeftConfig, peft/tuners/lora/config.py LoraConfig); laid out as PEFT's save_pretrained
 *       writes it, {@code json.dumps(d, indent=2, sort_keys=True)} (peft/config.py). vLLM
 *       requires r, lora_alpha and target_modules, and refuses modules_to_save and DoRA
 *       (vllm/lora/peft_helper.py); it reads use_rslora. Newer optional fields (peft_version,
 *       lora_bias, exclude_modules, ...) are left out: PEFT fills their defaults, and older
 *       PEFT versions are spared keys they do not know (the version range was not checked).
 * </ul>
 *
 * <p>Weights are written as float32 by default: that is what was trained, so a reload is bit for
 * bit the trained policy, and an adapter is small (r * (in + out) per module). vLLM and
 * transformers cast to the serving dtype on load. {@link Dtype#BF16} halves the file when wanted
 * (then a reload is the bf16-rounded adapter).
 *
 * <p>The module order of {@link LoraAdapters} is kept in the safetensors {@code __metadata__}
 * ({@value #ORDER_KEY}, names joined by newlines); other readers ignore it. A folder written
 * elsewhere has none and is read in natural order (layer numbers compared as numbers).
 */
public final class PeftAdapterIO {
  public static final String CONFIG_FILE = "adapter_config.json";
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  static final String PREFIX = "base_model.model.";
  static final String ORDER_KEY = "perl.lora.module_order";

  private static final Pattern KEY =
      Pattern.compile(Pattern.quote(PREFIX) + "(.+)\\.lora_([AB])\\.weight");
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  /** Python's {@code json.dumps(indent=2)} layout: {@code "key": value}, one array item a line. */
  private static final DefaultPrettyPrinter PYTHON_INDENT2 = new DefaultPrettyPrinter(
      Separators.createDefaultInstance()
          .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
          .withObjectEmptySeparator("")
          .withArrayEmptySeparator(""))
      .withObjectIndenter(new DefaultIndenter("  ", "\n"));
  static {
    PYTHON_INDENT2.indentArraysWith(new DefaultIndenter("  ", "\n"));
  }

  private PeftAdapterIO() {}

  /** What {@link #read} returns: the folder's config and its adapters (close them). */
  public record Adapter(LoraConfig config, String baseModelNameOrPath, LoraAdapters adapters)
      implements AutoCloseable {
    @Override
    public void close() {
      adapters.close();
    }
  }

  /** Writes the folder with float32 weights, module names as they are. */
  public static void write(Path dir, LoraAdapters adapters, LoraConfig config,
      String baseModelNameOrPath) throws IOException {
    write(dir, adapters, config, baseModelNameOrPath, Dtype.F32, PeftModuleNames.SAME);
  }

  /** Writes the folder, module names as they are. */
  public static void write(Path dir, LoraAdapters adapters, LoraConfig config,
      String baseModelNameOrPath, Dtype dtype) throws IOException {
    write(dir, adapters, config, baseModelNameOrPath, dtype, PeftModuleNames.SAME);
  }

  /**
   * Writes {@code adapter_config.json} and {@code adapter_model.safetensors} into {@code dir}, each
   * module under {@code names.toPeft} of its name (the module order recorded in those names too).
   */
  public static void write(Path dir, LoraAdapters adapters, LoraConfig config,
      String baseModelNameOrPath, Dtype dtype, PeftModuleNames names) throws IOException {
    if (dtype != Dtype.F32 && dtype != Dtype.BF16 && dtype != Dtype.F16) {
      throw new IllegalArgumentException("adapter weights are floating: F32, BF16 or F16, not " + dtype);
    }
    if (!adapters.config().equals(config)) {
      throw new IllegalArgumentException("the adapters were made for LoRA config "
          + adapters.config() + ", not " + config);
    }
    Files.createDirectories(dir);
    List<Spec> specs = new ArrayList<>();
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    StringBuilder order = new StringBuilder();
    for (LoraAdapters.Module m : adapters.modules()) {
      NDArray a = adapters.a(m.name());
      NDArray b = adapters.b(m.name());
      String key = PREFIX + names.toPeft(m.name());
      specs.add(Spec.of(key + ".lora_A.weight", dtype, a.getShape()));
      specs.add(Spec.of(key + ".lora_B.weight", dtype, b.getShape()));
      arrays.put(key + ".lora_A.weight", a);
      arrays.put(key + ".lora_B.weight", b);
      order.append(order.length() == 0 ? "" : "\n").append(names.toPeft(m.name()));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put(ORDER_KEY, order.toString());
    try (SafeTensorsWriter w = SafeTensorsWriter.create(dir.resolve(WEIGHTS_FILE), specs, metadata)) {
      for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
        w.write(e.getKey(), e.getValue());
      }
    }
    // no newline at the end, as PEFT writes it
    byte[] json = JSON.writer(PYTHON_INDENT2)
        .writeValueAsString(configJson(config, baseModelNameOrPath))
        .getBytes(StandardCharsets.UTF_8);
    Path partial = dir.resolve(CONFIG_FILE + ".partial");
    Files.write(partial, json);
    Files.move(partial, dir.resolve(CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** The config as PEFT writes it (keys sorted). */
  static ObjectNode configJson(LoraConfig config, String baseModelNameOrPath) {
    TreeMap<String, Object> f = new TreeMap<>();
    f.put("alpha_pattern", Map.of());
    f.put("base_model_name_or_path", baseModelNameOrPath);
    f.put("bias", "none");
    f.put("fan_in_fan_out", false);
    f.put("inference_mode", true);
    f.put("init_lora_weights", true);
    f.put("layers_pattern", null);
    f.put("layers_to_transform", null);
    double alpha = config.alpha();
    // PEFT types lora_alpha as int; write an integral alpha as one
    f.put("lora_alpha", alpha == Math.rint(alpha) && Math.abs(alpha) < 1e15 ? (Object) (long) alpha
        : (Object) alpha);
    f.put("lora_dropout", LoraConfig.DROPOUT);
    f.put("modules_to_save", null);
    f.put("peft_type", "LORA");
    f.put("r", config.r());
    f.put("rank_pattern", Map.of());
    f.put("revision", null);
    f.put("target_modules", config.peftTargetModules());
    f.put("task_type", "CAUSAL_LM");
    f.put("use_dora", false);
    f.put("use_rslora", config.useRslora());
    return JSON.valueToTree(f);
  }

  /**
   * Reads a folder; modules named as in the file, in its recorded order (or natural order), on
   * the CPU.
   */
  public static Adapter read(Path dir) throws IOException {
    return read(dir, null, Device.cpu(), PeftModuleNames.SAME);
  }

  /** Reads a folder, module names mapped by {@code names.fromPeft}, on the CPU. */
  public static Adapter read(Path dir, PeftModuleNames names) throws IOException {
    return read(dir, null, Device.cpu(), names);
  }

  /** {@link #read(Path, List, Device, PeftModuleNames)} with module names as in the file. */
  public static Adapter read(Path dir, List<LoraAdapters.Module> expected, Device device)
      throws IOException {
    return read(dir, expected, device, PeftModuleNames.SAME);
  }

  /**
   * Reads a folder and checks it against the modules the model expects ({@code expected}, null:
   * take the file's): every expected module present with {@code A [r, in]} and {@code B [out,
   * r]}, nothing else; the adapters then have {@code expected}'s order. Module names are the
   * file's mapped by {@code names.fromPeft}.
   */
  public static Adapter read(Path dir, List<LoraAdapters.Module> expected, Device device,
      PeftModuleNames names) throws IOException {
    Path configFile = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(configFile)) {
      throw new IOException(dir + ": no " + CONFIG_FILE + " (not a PEFT adapter folder)");
    }
    JsonNode c;
    try {
      c = JSON.readTree(configFile.toFile());
    } catch (IOException e) {
      throw new IOException(configFile + " is not valid JSON: " + e.getMessage(), e);
    }
    LoraConfig config = parseConfig(configFile, c);
    String base = c.hasNonNull("base_model_name_or_path")
        ? c.get("base_model_name_or_path").asText() : null;
    Path weights = dir.resolve(WEIGHTS_FILE);
    if (!Files.isRegularFile(weights)) {
      throw new IOException(dir + ": no " + WEIGHTS_FILE + " (adapter_model.bin is not read: "
          + "pickle files are not loaded here)");
    }
    try (SafeTensors st = SafeTensors.open(weights)) {
      Map<String, long[][]> shapes = new LinkedHashMap<>(); // module -> {A shape, B shape}
      Map<String, String> keyOf = new LinkedHashMap<>(); // our module name -> the file's
      for (SafeTensors.TensorInfo t : st.tensors().values()) {
        Matcher m = KEY.matcher(t.name());
        if (!m.matches()) {
          throw new IOException(weights + ": tensor " + t.name() + " is not a LoRA weight "
              + "(base_model.model.<module>.lora_A.weight or .lora_B.weight); biases, embeddings "
              + "and modules_to_save are not supported");
        }
        String module = names.fromPeft(m.group(1));
        String earlier = keyOf.putIfAbsent(module, m.group(1));
        if (earlier != null && !earlier.equals(m.group(1))) {
          throw new IOException(weights + ": modules " + earlier + " and " + m.group(1)
              + " are the same module " + module + " (two name layouts in one file)");
        }
        long[][] pair = shapes.computeIfAbsent(module, k -> new long[2][]);
        pair[m.group(2).equals("A") ? 0 : 1] = t.shape();
      }
      List<LoraAdapters.Module> found = new ArrayList<>();
      int r = config.r();
      for (Map.Entry<String, long[][]> e : shapes.entrySet()) {
        String module = e.getKey();
        long[] a = e.getValue()[0];
        long[] b = e.getValue()[1];
        if (a == null || b == null) {
          throw new IOException(weights + ": module " + module + " has lora_"
              + (a == null ? "B but no lora_A" : "A but no lora_B"));
        }
        if (a.length != 2 || b.length != 2 || a[0] != r || b[1] != r) {
          throw new IOException(weights + ": module " + module + " has lora_A "
              + Arrays.toString(a) + " and lora_B " + Arrays.toString(b) + "; with r=" + r
              + " they must be [" + r + ", in] and [out, " + r + "]");
        }
        // PEFT matches target_modules against its own names, our models against ours: either will do
        if (!config.targets(module) && !config.targets(keyOf.get(module))) {
          throw new IOException(weights + ": module " + module + " is not targeted by "
              + configFile + " (target_modules " + config.peftTargetModules() + ")");
        }
        found.add(new LoraAdapters.Module(module, a[1], b[0]));
      }
      List<LoraAdapters.Module> modules = expected == null
          ? ordered(found, st.metadata().get(ORDER_KEY), names, weights)
          : checked(found, expected, weights);
      LoraAdapters adapters = LoraAdapters.zeros(config, modules, device);
      try {
        fill(adapters, st, keyOf);
      } catch (IOException | RuntimeException e) {
        adapters.close();
        throw e;
      }
      return new Adapter(config, base, adapters);
    }
  }

  private static LoraConfig parseConfig(Path file, JsonNode c) throws IOException {
    String type = c.path("peft_type").asText(null);
    if (!"LORA".equals(type)) {
      throw new IOException(file + ": peft_type is " + type + "; only LORA adapters are supported");
    }
    if (c.path("use_dora").asBoolean(false)) {
      throw new IOException(file + ": use_dora is true; DoRA adapters are not supported");
    }
    if (c.path("fan_in_fan_out").asBoolean(false)) {
      throw new IOException(file + ": fan_in_fan_out is true (Conv1D layout); only nn.Linear "
          + "layouts are supported");
    }
    String bias = c.path("bias").asText("none");
    if (!bias.equals("none") || c.path("lora_bias").asBoolean(false)) {
      throw new IOException(file + ": bias is " + bias + "; only bias \"none\" is supported");
    }
    JsonNode save = c.get("modules_to_save");
    if (save != null && !save.isNull() && !(save.isArray() && save.isEmpty())) {
      throw new IOException(file + ": modules_to_save is " + save + "; not supported");
    }
    for (String pattern : List.of("rank_pattern", "alpha_pattern")) {
      JsonNode p = c.get(pattern);
      if (p != null && !p.isNull() && !p.isEmpty()) {
        throw new IOException(file + ": " + pattern + " is " + p + "; per-module ranks and alphas "
            + "are not supported");
      }
    }
    for (String layered : List.of("layers_to_transform", "layers_pattern")) {
      JsonNode p = c.get(layered);
      if (p != null && !p.isNull()) {
        throw new IOException(file + ": " + layered + " is " + p + "; not supported");
      }
    }
    if (!c.path("r").canConvertToInt() || !c.path("r").isIntegralNumber()) {
      throw new IOException(file + ": r is missing or not an integer");
    }
    if (!c.path("lora_alpha").isNumber()) {
      throw new IOException(file + ": lora_alpha is missing or not a number");
    }
    // lora_dropout only acts in training; a nonzero value from another trainer is ignored (RL uses 0)
    JsonNode t = c.get("target_modules");
    Object targets;
    if (t != null && t.isTextual()) {
      targets = t.asText();
    } else if (t != null && t.isArray()) {
      List<String> list = new ArrayList<>();
      for (JsonNode n : (ArrayNode) t) {
        list.add(n.asText());
      }
      targets = list;
    } else {
      throw new IOException(file + ": target_modules is missing or neither a list nor a string");
    }
    try {
      return LoraConfig.fromPeft(c.get("r").asInt(), c.get("lora_alpha").asDouble(), targets,
          c.path("use_rslora").asBoolean(false));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private static List<LoraAdapters.Module> ordered(List<LoraAdapters.Module> found, String order,
      PeftModuleNames names, Path weights) throws IOException {
    if (order == null) {
      List<LoraAdapters.Module> out = new ArrayList<>(found);
      out.sort(Comparator.comparing(LoraAdapters.Module::name, PeftAdapterIO::compareNatural));
      return out;
    }
    Map<String, LoraAdapters.Module> byName = new LinkedHashMap<>();
    for (LoraAdapters.Module m : found) {
      byName.put(m.name(), m);
    }
    List<LoraAdapters.Module> out = new ArrayList<>();
    for (String recorded : order.split("\n")) {
      String name = names.fromPeft(recorded);
      LoraAdapters.Module m = byName.remove(name);
      if (m == null) {
        throw new IOException(weights + ": the recorded module order names " + name
            + ", which has no weights (or is named twice)");
      }
      out.add(m);
    }
    if (!byName.isEmpty()) {
      throw new IOException(weights + ": modules " + byName.keySet()
          + " have weights but are missing from the recorded module order");
    }
    return out;
  }

  private static List<LoraAdapters.Module> checked(List<LoraAdapters.Module> found,
      List<LoraAdapters.Module> expected, Path weights) throws IOException {
    Map<String, LoraAdapters.Module> byName = new LinkedHashMap<>();
    for (LoraAdapters.Module m : found) {
      byName.put(m.name(), m);
    }
    for (LoraAdapters.Module e : expected) {
      LoraAdapters.Module f = byName.remove(e.name());
      if (f == null) {
        throw new IOException(weights + " has no adapter for module " + e.name());
      }
      if (!f.equals(e)) {
        throw new IOException(weights + ": module " + e.name() + " has in_features "
            + f.inFeatures() + ", out_features " + f.outFeatures() + "; the model's has "
            + e.inFeatures() + ", " + e.outFeatures());
      }
    }
    if (!byName.isEmpty()) {
      throw new IOException(weights + " has adapters for modules the model does not adapt: "
          + byName.keySet());
    }
    return List.copyOf(expected);
  }

  private static void fill(LoraAdapters adapters, SafeTensors st, Map<String, String> keyOf)
      throws IOException {
    float[] flat = new float[Math.toIntExact(adapters.parameterCount())];
    int offset = 0;
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Engines.ENGINE_NAME)) {
      for (LoraAdapters.Module mod : adapters.modules()) {
        for (String ab : List.of("A", "B")) {
          String key = PREFIX + keyOf.get(mod.name()) + ".lora_" + ab + ".weight";
          try (NDArray t = st.loadFloat(key, m)) {
            float[] v = t.toFloatArray();
            System.arraycopy(v, 0, flat, offset, v.length);
            offset += v.length;
          }
        }
      }
    }
    adapters.setFlat(flat);
  }

  /** Strings compared with runs of digits as numbers: layers.2 before layers.10. */
  static int compareNatural(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char ca = a.charAt(i);
      char cb = b.charAt(j);
      if (Character.isDigit(ca) && Character.isDigit(cb)) {
        int si = i;
        int sj = j;
        while (i < a.length() && Character.isDigit(a.charAt(i))) {
          i++;
        }
        while (j < b.length() && Character.isDigit(b.charAt(j))) {
          j++;
        }
        String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
        String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
        int c = na.length() != nb.length() ? Integer.compare(na.length(), nb.length())
            : na.compareTo(nb);
        if (c != 0) {
          return c;
        }
      } else {
        if (ca != cb) {
          return Character.compare(ca, cb);
        }
        i++;
        j++;
      }
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
