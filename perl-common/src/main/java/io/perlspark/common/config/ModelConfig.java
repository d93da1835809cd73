package io.perlspark.common.config;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The policy model: which model family, where its files are, and the family's settings.
 *
 * <p>{@code family} replaced the former {@code type} key ({@code type: tiny-vlm} is now {@code
 * family: builtin}); a config that still names {@code model.type} is rejected with that hint. The
 * size keys ({@code imageSize} … {@code ffnMult}) are the built-in model's: a {@code qwen2_5_vl}
 * model takes its sizes from {@code path}'s config.json, so there they must keep their defaults.
 *
 * @param family {@code builtin} (the tiny vision-language model: patch encoder + causal decoder)
 *     or {@code qwen2_5_vl} (a Qwen2.5-VL checkpoint in Hugging Face layout)
 * @param path the model's folder: a local folder or a Hadoop URI ({@code hdfs://}, {@code s3a://},
 *     {@code file://}); required for {@code qwen2_5_vl}, null for {@code builtin}
 * @param imageSize square image side in pixels (images are resized to it); builtin only
 * @param patchSize square patch side; must divide imageSize; builtin only
 * @param channels image channels (3 = RGB); builtin only
 * @param dModel hidden width; heads must divide it; builtin only
 * @param layers decoder layers; builtin only
 * @param heads attention heads; builtin only
 * @param ffnMult feed-forward width as a multiple of dModel; builtin only
 * @param maxSeqLen longest sequence (image tokens + prompt + response) the model accepts
 * @param init checkpoint to start from (e.g. the SFT warm start); null = fresh initialisation
 * @param tokenizer {@code builtin} (the family's own: the word vocabulary of the built-in model, the
 *     tokenizer.json in {@code path} for a Hub model) or the path of a Hugging Face tokenizer.json
 * @param device {@code auto} (GPU when one is assigned, else CPU), {@code cpu} or {@code gpu}
 * @param dtype the type of the weights and of the model's compute: {@code float32}, {@code
 *     bfloat16} or {@code float16} (qwen2_5_vl with LoRA only). Log-softmax, log-probs,
 *     entropies, the loss, the LoRA adapters and AdamW stay float32 whatever it is. bfloat16 needs
 *     a PyTorch JNI built with bf16 (deploy/gpu/build-jni.sh); a run checks before any work
 * @param tf32 let float32 matmuls on CUDA use TF32 tensor cores (about 10 bits of mantissa);
 *     {@code model.dtype: float32} only. DJL has no call for it: the JVMs running the model need
 *     {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1} in their environment, which a run checks
 * @param lora LoRA adapters instead of full fine-tuning ({@link LoraSettings}); qwen2_5_vl only
 * @param maxFullFineTuneParams the largest model {@code perl train} fine-tunes in full: the driver
 *     holds parameters, gradients and AdamW's two moments as float[] plus the broadcast byte[]
 *     (about 20 bytes per parameter), and the parameter bytes are one Java array (under 2 GiB,
 *     about 536M float32 values). Above it, training is refused before Spark starts, pointing to
 *     {@code model.lora.enabled: true}
 */
public record ModelConfig(
    String family,
    String path,
    int imageSize,
    int patchSize,
    int channels,
    int dModel,
    int layers,
    int heads,
    int ffnMult,
    int maxSeqLen,
    String init,
    String tokenizer,
    String device,
    String dtype,
    boolean tf32,
    LoraSettings lora,
    long maxFullFineTuneParams)
    implements Serializable {

  /** 500M: ~10 GB of driver heap at ~20 bytes per parameter, and under the byte[] limit. */
  public static final long DEFAULT_MAX_FULL_FINE_TUNE_PARAMS = 500_000_000L;

  /** The built-in tiny model; the default. */
  public static final String BUILTIN = "builtin";

  /** Qwen2.5-VL loaded from {@code model.path}. */
  public static final String QWEN2_5_VL = "qwen2_5_vl";

  /**
   * Every family a config may name. perl-model's {@code ModelFamilies} registry must implement a
   * subset of these (a test checks); a name listed here but not yet registered there is refused
   * when the model is built, naming the families that are.
   */
  public static final List<String> FAMILIES = Checks.list(BUILTIN, QWEN2_5_VL);

  public static final List<String> DEVICES = Checks.list("auto", "cpu", "gpu");

  public static final String FLOAT32 = "float32";
  public static final String BFLOAT16 = "bfloat16";
  public static final String FLOAT16 = "float16";

  /** Every {@code model.dtype}. */
  public static final List<String> DTYPES = Checks.list(FLOAT32, BFLOAT16, FLOAT16);

  /** URI schemes of {@code model.path} (read through Hadoop's FileSystem); none = a local path. */
  public static final List<String> PATH_SCHEMES =
      Checks.list("file", "hdfs", "s3a", "viewfs", "gs", "abfs", "abfss");

  private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):");

  public static ModelConfig defaults() {
    return new ModelConfig(
        BUILTIN, null, 24, 8, 3, 64, 2, 4, 4, 128, null, "builtin", "auto", FLOAT32, false,
        LoraSettings.defaults(),
        DEFAULT_MAX_FULL_FINE_TUNE_PARAMS);
  }

  /** A float32 model config without TF32 (the precision keys at their defaults). */
  public ModelConfig(String family, String path, int imageSize, int patchSize, int channels,
      int dModel, int layers, int heads, int ffnMult, int maxSeqLen, String init, String tokenizer,
      String device, LoraSettings lora, long maxFullFineTuneParams) {
    this(family, path, imageSize, patchSize, channels, dModel, layers, heads, ffnMult, maxSeqLen,
        init, tokenizer, device, FLOAT32, false, lora, maxFullFineTuneParams);
  }

  /** This config with {@code dtype} and {@code tf32} replaced. */
  public ModelConfig withPrecision(String newDtype, boolean newTf32) {
    return new ModelConfig(family, path, imageSize, patchSize, channels, dModel, layers, heads,
        ffnMult, maxSeqLen, init, tokenizer, device, newDtype, newTf32, lora,
        maxFullFineTuneParams);
  }

  /** This config with {@code lora} replaced. */
  public ModelConfig withLora(LoraSettings l) {
    return new ModelConfig(family, path, imageSize, patchSize, channels, dModel, layers, heads,
        ffnMult, maxSeqLen, init, tokenizer, device, dtype, tf32, l, maxFullFineTuneParams);
  }


  /** Image tokens per image: (imageSize / patchSize)^2. */
  public int patchesPerImage() {
    int side = imageSize / patchSize;
    return side * side;
  }

  void check(Checks c, String path) {
    c.oneOf(Checks.join(path, "family"), family, FAMILIES);
    checkPath(c, path);
    if (QWEN2_5_VL.equals(family)) {
      onlyForBuiltin(c, path);
    } else {
      checkBuiltinSizes(c, path);
    }
    c.atLeast(Checks.join(path, "maxSeqLen"), maxSeqLen, 1);
    if (init != null && init.isBlank()) {
      c.notAllowed(Checks.join(path, "init"), init, "must be a checkpoint path or null");
    }
    c.notBlank(Checks.join(path, "tokenizer"), tokenizer);
    c.oneOf(Checks.join(path, "device"), device, DEVICES);
    checkPrecision(c, path);
    c.atLeast(Checks.join(path, "maxFullFineTuneParams"), maxFullFineTuneParams, 1);
    if (lora == null) {
      c.add(Checks.join(path, "lora"), "missing");
    } else {
      lora.check(c, Checks.join(path, "lora"));
      if (lora.enabled() && BUILTIN.equals(family)) {
        // the built-in model is tiny (a few hundred thousand parameters): full fine-tuning is cheap
        c.notAllowed(Checks.join(path, "lora.enabled"), true, "LoRA is for model.family="
            + QWEN2_5_VL + "; the built-in model trains in full (set it to false)");
      }
    }
  }

  /**
   * {@code model.dtype} and {@code model.tf32}. Half precision is for LoRA runs of a Hub model:
   * a full fine-tune keeps every parameter, its gradient and AdamW's moments as float32 on the
   * driver, and stepping bf16 weights there would round away most updates.
   */
  private void checkPrecision(Checks c, String section) {
    String key = Checks.join(section, "dtype");
    c.oneOf(key, dtype, DTYPES);
    boolean half = BFLOAT16.equals(dtype) || FLOAT16.equals(dtype);
    if (half && BUILTIN.equals(family)) {
      c.notAllowed(key, dtype, "the built-in model runs in float32 (set model.dtype: float32)");
    } else if (half && !loraEnabled()) {
      c.notAllowed(key, dtype, "full fine-tuning runs in float32 only (the driver steps every"
          + " parameter as float32); train LoRA adapters (model.lora.enabled: true, the adapters"
          + " and their optimizer stay float32) or set model.dtype: float32");
    }
    if (tf32 && dtype != null && !FLOAT32.equals(dtype)) {
      c.notAllowed(Checks.join(section, "tf32"), true, "TF32 is a mode of float32 matmuls;"
          + " model.dtype is " + dtype + " (set model.tf32: false, or model.dtype: float32)");
    }
  }

  /** Whether this run trains LoRA adapters rather than every parameter. */
  public boolean loraEnabled() {
    return lora != null && lora.enabled();
  }

  private void checkBuiltinSizes(Checks c, String path) {
    c.atLeast(Checks.join(path, "imageSize"), imageSize, 1);
    c.atLeast(Checks.join(path, "patchSize"), patchSize, 1);
    if (imageSize >= 1) {
      c.divides(
          Checks.join(path, "patchSize"), patchSize, Checks.join(path, "imageSize"), imageSize);
    }
    c.atLeast(Checks.join(path, "channels"), channels, 1);
    c.atLeast(Checks.join(path, "dModel"), dModel, 1);
    c.atLeast(Checks.join(path, "layers"), layers, 1);
    c.atLeast(Checks.join(path, "heads"), heads, 1);
    if (dModel >= 1) {
      c.divides(Checks.join(path, "heads"), heads, Checks.join(path, "dModel"), dModel);
    }
    c.atLeast(Checks.join(path, "ffnMult"), ffnMult, 1);
  }

  /**
   * {@code model.path}: required exactly for the families that load files; a folder, a local path
   * or a URI of a file system Hadoop reads. Whether it exists is checked when it is read.
   */
  private void checkPath(Checks c, String section) {
    String key = Checks.join(section, "path");
    if (BUILTIN.equals(family)) {
      if (this.path != null) {
        c.notAllowed(key, this.path,
            "the built-in model has no files; model.path is for model.family=" + QWEN2_5_VL
                + " (leave it null)");
      }
      return;
    }
    if (!FAMILIES.contains(family)) {
      return; // the family is already reported
    }
    if (this.path == null || this.path.isBlank()) {
      c.add(key, (this.path == null ? "missing" : "blank") + "; model.family=" + family
          + " needs the model's folder (a local folder, hdfs://... or s3a://...)");
      return;
    }
    Matcher m = SCHEME.matcher(this.path);
    // "C:\models" is a Windows drive, not a scheme; a one-letter "scheme" is never a Hadoop one.
    if (m.find() && m.group(1).length() > 1) {
      String scheme = m.group(1).toLowerCase(Locale.ROOT);
      if (scheme.equals("s3") || scheme.equals("s3n")) {
        c.notAllowed(key, this.path, "use s3a:// (Hadoop's S3 connector) instead of " + scheme + "://");
        return;
      }
      if (!PATH_SCHEMES.contains(scheme)) {
        c.notAllowed(key, this.path,
            "the scheme " + scheme + ": is not one of " + String.join(" | ", PATH_SCHEMES)
                + " (or a local path without a scheme)");
        return;
      }
    }
    String lower = this.path.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".json") || lower.endsWith(".safetensors") || lower.endsWith(".bin")) {
      c.notAllowed(key, this.path, "must be the model's folder, not a file inside it");
    }
  }

  /** The built-in model's size keys must keep their defaults for other families. */
  private void onlyForBuiltin(Checks c, String section) {
    ModelConfig d = defaults();
    String rule = "applies only to model.family=" + BUILTIN + "; model.family=" + family
        + " takes its sizes from model.path's config.json (remove the key)";
    sizeDefault(c, section, "imageSize", imageSize, d.imageSize, rule);
    sizeDefault(c, section, "patchSize", patchSize, d.patchSize, rule);
    sizeDefault(c, section, "channels", channels, d.channels, rule);
    sizeDefault(c, section, "dModel", dModel, d.dModel, rule);
    sizeDefault(c, section, "layers", layers, d.layers, rule);
    sizeDefault(c, section, "heads", heads, d.heads, rule);
    sizeDefault(c, section, "ffnMult", ffnMult, d.ffnMult, rule);
  }

  private static void sizeDefault(
      Checks c, String section, String name, int value, int defaultValue, String rule) {
    if (value != defaultValue) {
      c.notAllowed(Checks.join(section, name), value, rule);
    }
  }
}
