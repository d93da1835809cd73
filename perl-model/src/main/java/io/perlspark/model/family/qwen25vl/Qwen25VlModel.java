package io.perlspark.model.family.qwen25vl;

import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.owned;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.perlspark.model.learn.FlatParameters;
import io.perlspark.model.lora.LoraAdapters;
import io.perlspark.model.lora.LoraConfig;
import io.perlspark.model.policy.Constants;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.DeviceSampler;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.policy.TokenScores;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Qwen2.5-VL (vision tower + Qwen2 decoder with M-RoPE) on DJL's PyTorch engine, in float32,
 * bfloat16 or float16 (float32 logits and log-probs; see {@link Qwen25VlPrecision}), loaded
 * from a Hugging Face checkpoint folder. Follows transformers' {@code
 * Qwen2_5_VLForConditionalGeneration} (eager attention) operation by operation.
 *
 * <p>Parameters are DJL {@link Parameter}s named by their Hub names, in the order of {@link
 * Qwen25VlWeights#expected}: text embedding, decoder layers, final norm, LM head (untied only),
 * vision tower. With a tied head the embedding matrix is the head, so it gets both gradients.
 *
 * <p>Inputs: prompts ({@link Qwen25VlPrompt}) are left-padded into one batch; pad columns are
 * masked out of attention and get position 0, so a row's result does not depend on its batch (up
 * to float rounding). Each prompt's positions come from its own images' grids.
 *
 * <p>Activations are always the first operand of an op, so results attach to the caller's
 * manager, never to the one that owns the parameters. Inference runs under {@link
 * Engines#noGrad()}; the differentiable path ({@link #responseTensors}) needs {@link
 * Engines#TRAINING_LOCK} held by the caller while it collects gradients.
 */
public final class Qwen25VlModel implements AutoCloseable {
  /** Additive attention bias of a masked key: finite, so a fully masked (pad) row stays finite. */
  static final float MASKED = -1e9f;
  /** Response positions per LM-head chunk in scoring: bounds the [rows, vocab] logits alive. */
  static final int LOGIT_CHUNK_ROWS = 64;

  private final Qwen25VlConfig config;
  private final Device device;
  private final NDManager manager;
  private final LinkedHashMap<String, Parameter> parameters;
  private final List<Parameter> ordered;
  private final long parameterCount;
  private final Qwen25VlVisionTower vision;
  private final Qwen25VlDecoder decoder;
  /** The LoRA adapters of a LoRA run, else null. */
  private final LoraAdapters lora;
  /** The seed of {@link #lora}'s initial A, so that views start from the same adapters. */
  private final long loraSeed;
  /** The base weights' memory, shared with this model's adapter views (see {@link #newAdapterView}). */
  private final SharedBase base;
  /** Whether {@link #base} is another model's (this model is one of its adapter views). */
  private final boolean view;
  private boolean closed;

  /**
   * The linear modules whose outputs go through the adapter hook (so LoRA may adapt them): the
   * decoder's seven projections, the vision blocks' qkv/proj/MLP and the merger's two linears. The
   * patch embedding (a Conv3d in the Hub model) and the LM head / embedding are not adaptable.
   */
  private static final Pattern ADAPTABLE = Pattern.compile(
      "model\\.layers\\.\\d+\\.(self_attn\\.[qkvo]_proj|mlp\\.(gate|up|down)_proj)"
          + "|visual\\.blocks\\.\\d+\\.(attn\\.(qkv|proj)|mlp\\.(gate|up|down)_proj)"
          + "|visual\\.merger\\.mlp\\.[02]");

  /**
   * The modules a LoRA config adapts in a model with these weights ({@code name -> shape}, Hub
   * names, in order), only among the adaptable linear modules.
   *
   * @throws IllegalArgumentException when the config targets none of them
   */
  static List<LoraAdapters.Module> loraModules(LoraConfig lora, Map<String, long[]> shapes) {
    Map<String, long[]> adaptable = new LinkedHashMap<>();
    shapes.forEach((name, shape) -> {
      if (name.endsWith(".weight")
          && ADAPTABLE.matcher(name.substring(0, name.length() - 7)).matches()) {
        adaptable.put(name, shape);
      }
    });
    List<LoraAdapters.Module> modules = LoraAdapters.modulesOf(lora, adaptable);
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("the LoRA targets " + lora.peftTargetModules()
          + " match no linear module of this model (model.lora.targets)");
    }
    return modules;
  }

  private Qwen25VlModel(Qwen25VlConfig config, Device device, NDManager manager,
      LinkedHashMap<String, NDArray> arrays, LoraConfig loraConfig, long loraSeed) {
    this.config = config;
    this.device = device;
    this.manager = manager;
    this.loraSeed = loraSeed;
    this.parameters = new LinkedHashMap<>();
    long n = 0;
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      String name = e.getKey();
      Parameter.Type type = name.endsWith(".bias") ? Parameter.Type.BIAS
          : name.contains("norm") || name.contains("ln_q") ? Parameter.Type.GAMMA
          : Parameter.Type.WEIGHT;
      Parameter p = Parameter.builder().setName(name).setType(type).build();
      p.setArray(e.getValue());
      // a LoRA run trains only the adapters: the base gets no gradient (and autograd keeps less)
      e.getValue().setRequiresGradient(loraConfig == null);
      parameters.put(name, p);
      n += e.getValue().size();
    }
    this.ordered = Collections.unmodifiableList(new ArrayList<>(parameters.values()));
    this.parameterCount = n;
    if (loraConfig != null) {
      Map<String, long[]> shapes = new LinkedHashMap<>();
      arrays.forEach((k, v) -> shapes.put(k, v.getShape().getShape()));
      this.lora = LoraAdapters.create(loraConfig, loraModules(loraConfig, shapes), loraSeed, device);
    } else {
      this.lora = null;
    }
    Qwen25VlOps.Adapter adapter = lora == null ? Qwen25VlOps.Adapter.NONE : this::adapt;
    this.vision = new Qwen25VlVisionTower(config.vision(), this::w, adapter);
    this.decoder = new Qwen25VlDecoder(config, this::w, adapter);
    this.base = new SharedBase(manager, baseBytes(ordered));
    this.view = false;
  }

  // ------------------------------------------------------------------ shared base, adapter views

  /**
   * The base weights' native memory and how many models hold it (the model that loaded it and its
   * live adapter views). Ownership rule: every holder releases once on close; the last release
   * frees the weights, so closing the loader while a view still computes frees nothing under it.
   */
  private static final class SharedBase {
    private final NDManager manager;
    private final long bytes;
    private int holders = 1;

    SharedBase(NDManager manager, long bytes) {
      this.manager = manager;
      this.bytes = bytes;
    }

    synchronized void retain() {
      if (holders == 0) {
        throw new IllegalStateException("the base weights are already freed");
      }
      holders++;
    }

    synchronized void release() {
      if (--holders == 0) {
        manager.close();
      }
    }

    synchronized boolean freed() {
      return holders == 0;
    }
  }

  private static long baseBytes(List<Parameter> parameters) {
    long bytes = 0;
    for (Parameter p : parameters) {
      NDArray a = p.getArray();
      bytes += a.size() * a.getDataType().getNumOfBytes();
    }
    return bytes;
  }

  /** A view: {@code owner}'s base weights (shared, not copied) with adapters of its own. */
  private Qwen25VlModel(Qwen25VlModel owner, LoraAdapters adapters) {
    this.config = owner.config;
    this.device = owner.device;
    this.manager = owner.manager;
    this.parameters = owner.parameters;
    this.ordered = owner.ordered;
    this.parameterCount = owner.parameterCount;
    this.lora = adapters;
    this.loraSeed = owner.loraSeed;
    this.base = owner.base;
    this.view = true;
    this.vision = new Qwen25VlVisionTower(config.vision(), this::w, this::adapt);
    this.decoder = new Qwen25VlDecoder(config, this::w, this::adapt);
  }

  /**
   * A model over this model's base weights (the same arrays, no copy) with fresh adapters of its
   * own (this model's initial ones: B = 0, so it is the base exactly until others are loaded).
   * Closing it frees its adapters; the base stays until this model and every view are closed.
   *
   * @throws IllegalStateException for a model without adapters (nothing to tell views apart), or
   *     when the base is already freed
   */
  public synchronized Qwen25VlModel newAdapterView() {
    if (lora == null) {
      throw new IllegalStateException("only a model with LoRA adapters has adapter views");
    }
    if (closed) {
      throw new IllegalStateException("this model is closed");
    }
    base.retain();
    try {
      return new Qwen25VlModel(this,
          LoraAdapters.create(lora.config(), lora.modules(), loraSeed, device));
    } catch (RuntimeException e) {
      base.release();
      throw e;
    }
  }

  /**
   * Native bytes this model object accounts for: the base weights plus its adapters for the model
   * that loaded them, only its adapters for a view.
   */
  public long nativeBytes() {
    long adapters = lora == null ? 0 : lora.nativeBytes();
    return isView() ? adapters : base.bytes + adapters;
  }

  /** Whether this model shares another model's base ({@link #newAdapterView}). */
  public boolean isView() {
    return view;
  }

  /** Whether the base weights are freed (this model and all its views closed); for tests. */
  public boolean baseFreed() {
    return base.freed();
  }

  private NDArray adapt(String module, NDArray x, NDArray base) {
    return lora.has(module) ? lora.apply(module, x, base) : base;
  }

  /** The LoRA adapters (a LoRA run), or null (full fine-tuning). */
  public LoraAdapters lora() {
    return lora;
  }

  /** Loads {@code config.json}, {@code generation_config.json} and the weights of a folder. */
  public static Qwen25VlModel load(Path checkpointFolder, Device device) throws IOException {
    return load(checkpointFolder, Qwen25VlConfig.load(checkpointFolder), device);
  }

  /** Loads the weights of a folder for a given config (see {@link Qwen25VlWeights#load}). */
  public static Qwen25VlModel load(Path checkpointFolder, Qwen25VlConfig config, Device device)
      throws IOException {
    return load(checkpointFolder, config, device, null, 0);
  }

  /**
   * As {@link #load(Path, Qwen25VlConfig, Device)}, with LoRA adapters when {@code lora} is not
   * null: the base weights are frozen (no gradient) and fresh adapters (B = 0, so the model equals
   * the base) are drawn from {@code loraSeed}, the same on every JVM.
   */
  public static Qwen25VlModel load(Path checkpointFolder, Qwen25VlConfig config, Device device,
      LoraConfig lora, long loraSeed) throws IOException {
    return load(checkpointFolder, config, device, lora, loraSeed, DataType.FLOAT32);
  }

  /**
   * As {@link #load(Path, Qwen25VlConfig, Device, LoraConfig, long)} with the weights and the
   * compute in {@code dtype} (FLOAT32, BFLOAT16 or FLOAT16; see {@link Qwen25VlPrecision}): the
   * weights are converted from the checkpoint's stored type, LoRA adapters stay float32.
   */
  public static Qwen25VlModel load(Path checkpointFolder, Qwen25VlConfig config, Device device,
      LoraConfig lora, long loraSeed, DataType dtype) throws IOException {
    Qwen25VlPrecision.requireSupported(dtype);
    if (lora == null && dtype != DataType.FLOAT32) {
      throw new IllegalArgumentException("full fine-tuning runs in float32 only; " + dtype
          + " is for LoRA runs (the adapters stay float32)");
    }
    Engines.engine();
    NDManager manager = NDManager.newBaseManager(device, Engines.ENGINE_NAME);
    manager.setName("Qwen25VlModel");
    try {
      return new Qwen25VlModel(config, device, manager,
          Qwen25VlWeights.load(checkpointFolder, config, manager, dtype), lora, loraSeed);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * A seeded random-init model built directly on {@code device} ({@link
   * Qwen25VlRandomInit#arrays}), with LoRA adapters when {@code lora} is not null: no checkpoint
   * is written or read, so a multi-GB model costs only its device memory.
   */
  public static Qwen25VlModel random(Qwen25VlConfig config, double initializerRange, long seed,
      Device device, LoraConfig lora, long loraSeed) {
    return random(config, initializerRange, seed, device, DataType.FLOAT32, lora, loraSeed);
  }

  /**
   * As {@link #random(Qwen25VlConfig, double, long, Device, LoraConfig, long)}, with the base
   * weights in {@code dtype} (drawn in float32, then rounded once, as a checkpoint saved in that
   * type would be); the engine must support the type ({@link Qwen25VlPrecision#requireSupported}).
   */
  public static Qwen25VlModel random(Qwen25VlConfig config, double initializerRange, long seed,
      Device device, DataType dtype, LoraConfig lora, long loraSeed) {
    Engines.engine();
    Qwen25VlPrecision.requireSupported(dtype);
    NDManager manager = NDManager.newBaseManager(device, Engines.ENGINE_NAME);
    manager.setName("Qwen25VlModel");
    try {
      LinkedHashMap<String, NDArray> arrays =
          Qwen25VlRandomInit.arrays(config, initializerRange, seed, manager);
      if (dtype != DataType.FLOAT32) {
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
          NDArray f32 = e.getValue();
          e.setValue(f32.toType(dtype, false)); // a different type: always a new array
          f32.close();
        }
      }
      return new Qwen25VlModel(config, device, manager, arrays, lora, loraSeed);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  public Qwen25VlConfig config() {
    return config;
  }

  public Device device() {
    return device;
  }

  /** The type of the base weights and of the compute (the LoRA adapters are float32). */
  public DataType dtype() {
    return w("model.embed_tokens.weight").getDataType();
  }

  /** Every parameter, in the fixed order of {@link Qwen25VlWeights#expected} (Hub names). */
  public List<Parameter> parameters() {
    return ordered;
  }

  /** A parameter by Hub name. */
  public Parameter parameter(String hubName) {
    Parameter p = parameters.get(hubName);
    if (p == null) {
      throw new IllegalArgumentException("no parameter named " + hubName);
    }
    return p;
  }

  public long parameterCount() {
    return parameterCount;
  }

  /**
   * All parameter values concatenated in {@link #parameters()} order (row-major each): the
   * learner's flat layout. Only for models under 2^31 values (a Java array's limit).
   */
  public float[] flatParameters() {
    return FlatParameters.values(ordered);
  }

  /**
   * Overwrites all parameters in place from the layout of {@link #flatParameters()}; the {@link
   * Parameter} objects stay the same. Must not run concurrently with anything else on the model.
   */
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public void setFlatParameters(float[] values) {
    Objects.requireNonNull(values, "values");
    try (Engines.NoGrad noGrad = Engines.noGrad()) {
      FlatParameters.setValues(ordered, values);
    }
  }

  /** The manager owning the parameters; open sub-managers of it for temporaries. */
  public NDManager manager() {
    return manager;
  }

  private NDArray w(String name) {
    return parameters.get(name).getArray();
  }

  // ------------------------------------------------------------------ forward pieces

  /**
   * What a forward pass produced; intermediates only when asked for (else null / empty).
   * {@code residual} is the last layer's output {@code [B, L, H]}, {@code finalNorm} its final
   * RMSNorm (the LM head's input; null inside generation and scoring, which normalise only the
   * positions they need).
   */
  public record Trace(
      Qwen25VlRope.RopeIndex rope,
      Qwen25VlRope.Windows windows,
      NDArray patchEmbed,
      List<NDArray> visionBlocks,
      NDArray mergerOutWindowOrder,
      NDArray imageEmbeds,
      NDArray inputsEmbeds,
      List<NDArray> layerOutputs,
      NDArray residual,
      NDArray finalNorm) {}

  /**
   * M-RoPE positions {@code [3, B, L]} and rope deltas of a padded batch, as transformers'
   * {@code get_rope_index} (see {@link Qwen25VlRope#ropeIndex}).
   */
  public Qwen25VlRope.RopeIndex ropeIndex(long[][] inputIds, int[][] attentionMask,
      List<int[]> grids) {
    return Qwen25VlRope.ropeIndex(inputIds, attentionMask, grids, config);
  }

  /** Final RMSNorm. */
  public NDArray finalNorm(NDArray x) {
    return decoder.finalNorm(x);
  }

  /**
   * LM head over final-norm outputs: logits {@code [..., vocab]} (tied: the embedding matrix), in
   * float32 whatever the model's type: HF and verl cast the logits to float32 before temperature,
   * log-softmax and sampling, so log-probs, entropies and the loss are float32.
   */
  public NDArray logits(NDArray normed) {
    return Qwen25VlOps.as(decoder.head(normed), DataType.FLOAT32);
  }

  /** The image pixels of a batch as one {@code [N, patchDim]} array. */
  private NDArray pixelArray(NDManager m, List<float[]> pixels, List<int[]> grids) {
    if (pixels.size() != grids.size()) {
      throw new IllegalArgumentException(
          pixels.size() + " pixel arrays but " + grids.size() + " grids; need one per image");
    }
    int total = 0;
    for (int i = 0; i < pixels.size(); i++) {
      int[] g = grids.get(i);
      long expected = (long) g[0] * g[1] * g[2] * config.vision().patchDim();
      if (pixels.get(i).length != expected) {
        throw new IllegalArgumentException("image " + i + ": " + pixels.get(i).length
            + " pixel values but grid " + Arrays.toString(g) + " needs " + expected);
      }
      total += pixels.get(i).length;
    }
    float[] all = new float[total];
    int at = 0;
    for (float[] p : pixels) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    // the vision tower runs in the weights' type (transformers: pixel_values.type(visual.dtype))
    return Qwen25VlOps.as(owned(m, all,
        new Shape(total / config.vision().patchDim(), config.vision().patchDim())), dtype());
  }

  /**
   * Full forward of a padded batch (HF layout: {@code attentionMask} 1 = token, 0 = pad), up to the
   * final norm; {@link #logits} of {@code finalNorm} gives the logits. Results attach to
   * {@code m}. Gradients flow when a collector is open; wrap in {@link Engines#noGrad()} for
   * inference.
   *
   * @param pixels per image, in batch order, {@code float[n_patches * patchDim]}
   * @param grids per image, (t, h, w)
   * @param keepIntermediates whether to keep the vision and decoder intermediates in the trace
   */
  public Trace forward(NDManager m, long[][] inputIds, int[][] attentionMask, List<float[]> pixels,
      List<int[]> grids, boolean keepIntermediates) {
    Trace t = forward(m, inputIds, attentionMask, pixels, grids, keepIntermediates, null);
    return new Trace(t.rope(), t.windows(), t.patchEmbed(), t.visionBlocks(),
        t.mergerOutWindowOrder(), t.imageEmbeds(), t.inputsEmbeds(), t.layerOutputs(),
        t.residual(), finalNorm(t.residual()));
  }

  private Trace forward(NDManager m, long[][] inputIds, int[][] attentionMask,
      List<float[]> pixels, List<int[]> grids, boolean keep, Qwen25VlDecoder.KvCache cache) {
    Objects.requireNonNull(inputIds, "inputIds");
    Qwen25VlRope.RopeIndex rope =
        Qwen25VlRope.ropeIndex(inputIds, attentionMask, grids, config);
    Qwen25VlVisionTower.Output vis = null;
    if (!grids.isEmpty()) {
      vis = vision.forward(m, pixelArray(m, pixels, grids), grids, keep);
    }
    NDArray x = decoder.embed(m, inputIds, vis == null ? null : vis.imageEmbeds());
    NDArray inputsEmbeds = x;
    int batch = inputIds.length;
    int length = inputIds[0].length;
    float[][] cs = Qwen25VlRope.textCosSin(rope.positions(), config);
    Shape table = new Shape(batch, 1, length, config.headDim());
    // computed in float32, used in the activations' type (transformers: cos.to(x.dtype))
    NDArray cos = Qwen25VlOps.as(owned(m, cs[0], table), x.getDataType());
    NDArray sin = Qwen25VlOps.as(owned(m, cs[1], table), x.getDataType());
    NDArray bias = causalPadBias(m, attentionMask);
    List<NDArray> layers = keep ? new ArrayList<>() : null;
    x = decoder.layers(x, cos, sin, bias, cache, layers);
    return new Trace(rope, vis == null ? null : vis.windows(),
        vis == null ? null : vis.patchEmbed(), vis == null ? List.of() : vis.blocks(),
        vis == null ? null : vis.mergerOut(), vis == null ? null : vis.imageEmbeds(),
        keep ? inputsEmbeds : null, keep ? layers : List.of(), x, null);
  }

  /**
   * Additive attention bias {@code [B, 1, L, L]}: future keys and pad keys masked. Built in native
   * memory from a {@code [L, L]} comparison and a {@code [B, 1, 1, L]} pad row, so the Java heap
   * never holds {@code B * L^2} floats.
   */
  static NDArray causalPadBias(NDManager m, int[][] mask) {
    int batch = mask.length;
    int length = mask[0].length;
    float[] padKeys = new float[batch * length];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < length; j++) {
        padKeys[b * length + j] = mask[b][j] == 0 ? MASKED : 0f;
      }
    }
    NDArray positions = m.arange(length).toType(DataType.INT64, false);
    NDArray future = positions.reshape(1, length).gt(positions.reshape(length, 1))
        .toType(DataType.FLOAT32, false);
    NDArray causal = future.mul(Constants.scalar(future, MASKED)).reshape(1, 1, length, length);
    // Both masks add up to 2 * MASKED at most: still finite, and exp() of it is exactly 0.
    return causal.add(owned(m, padKeys, new Shape(batch, 1, 1, length)));
  }

  // ------------------------------------------------------------------ batching

  /** Prompts left-padded into one batch. */
  private record Padded(long[][] ids, int[][] mask, int[] lengths, List<float[]> pixels,
      List<int[]> grids) {}

  private Padded pad(List<Qwen25VlPrompt> prompts, int[][] suffixes) {
    int batch = prompts.size();
    int[] lengths = new int[batch];
    int width = 0;
    List<float[]> pixels = new ArrayList<>();
    List<int[]> grids = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      Qwen25VlPrompt p = Objects.requireNonNull(prompts.get(b), "prompt " + b);
      p.validate(b, config);
      lengths[b] = p.length() + (suffixes == null ? 0 : suffixes[b].length);
      width = Math.max(width, lengths[b]);
      pixels.addAll(p.pixels());
      grids.addAll(p.grids());
    }
    long[][] ids = new long[batch][width];
    int[][] mask = new int[batch][width];
    for (int b = 0; b < batch; b++) {
      int padding = width - lengths[b];
      Arrays.fill(ids[b], 0, padding, config.padTokenId());
      int[] prompt = prompts.get(b).inputIds();
      for (int i = 0; i < prompt.length; i++) {
        ids[b][padding + i] = prompt[i];
      }
      if (suffixes != null) {
        for (int i = 0; i < suffixes[b].length; i++) {
          int id = suffixes[b][i];
          if (id < 0 || id >= config.vocabSize() || id == config.imageTokenId()) {
            throw new IllegalArgumentException("response " + b + " has token " + id
                + " (outside the vocabulary, or an image pad)");
          }
          ids[b][padding + prompt.length + i] = id;
        }
      }
      Arrays.fill(mask[b], padding, width, 1);
    }
    return new Padded(ids, mask, lengths, pixels, grids);
  }

  // ------------------------------------------------------------------ generation

  /** As {@link #generate(List, GenerationOptions, int)} with no minimum length. */
  public GenerationResult generate(List<Qwen25VlPrompt> prompts, GenerationOptions options) {
    return generate(prompts, options, 0);
  }

  /**
   * Samples one response per prompt with a KV cache (greedy at temperature 0; sequence i draws
   * from {@code SplittableRandom(seeds[i])}). Stops a sequence at one of the generation config's
   * eos ids (unless {@code ignoreEos}) or after {@code maxNewTokens}. Vision special tokens
   * (151652..151656) are never emitted; eos is not emitted before {@code minNewTokens} tokens
   * (as transformers' {@code min_new_tokens}).
   *
   * <p>Device-resident: the logits, the KV cache, the attention bias and the rotary tables stay on
   * the model's device; {@link DeviceSampler} (TokenSampler's rule and log-probs) brings back only
   * the B chosen ids and their log-probs per step, and feeds the ids to the next step directly.
   */
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public GenerationResult generate(
      List<Qwen25VlPrompt> prompts, GenerationOptions options, int minNewTokens) {
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(options, "options");
    int batch = prompts.size();
    if (batch == 0) {
      return new GenerationResult(new int[0][], new float[0][], new boolean[0]);
    }
    if (options.seeds().length != batch) {
      throw new IllegalArgumentException(
          "got " + batch + " prompts but " + options.seeds().length + " seeds; need one each");
    }
    Padded in = pad(prompts, null);
    int steps = options.maxNewTokens();
    int[] eos = config.eosTokenIds();
    int[] visionIds = config.visionSpecialIds();
    int[][] tokens = new int[batch][steps];
    float[][] logProbs = new float[batch][steps];
    int[] lengths = new int[batch];
    boolean[] finished = new boolean[batch];
    boolean[] active = new boolean[batch];
    Arrays.fill(active, true);
    try (Engines.NoGrad noGrad = Engines.noGrad();
        NDManager call = manager.newSubManager();
        Qwen25VlDecoder.KvCache cache = new Qwen25VlDecoder.KvCache(call, config.numLayers());
        DeviceSampler sampler = new DeviceSampler(call, options, config.vocabSize())) {
      DeviceSampler.Banned bannedEarly = sampler.ban(concat(visionIds, eos));
      DeviceSampler.Banned banned = sampler.ban(visionIds);
      // One manager per step; the sampled ids move on to the next step's manager.
      NDManager step = call.newSubManager();
      try {
        Qwen25VlRope.RopeIndex rope;
        NDArray logits;
        try (NDManager prefill = call.newSubManager()) { // its activations die here
          Trace t = forward(prefill, in.ids(), in.mask(), in.pixels(), in.grids(), false, cache);
          rope = t.rope();
          logits = logits(finalNorm(t.residual().get(new NDIndex(":, -1, :"))));
          logits.attach(step);
        }
        try (Qwen25VlDecodeInputs decode = new Qwen25VlDecodeInputs(call, config, rope,
            in.mask(), in.lengths(), steps)) {
          for (int s = 0; ; s++) {
            // every active row has exactly s tokens, so one banned set serves the whole batch
            DeviceSampler.Picks picks =
                sampler.next(logits, active, s < minNewTokens ? bannedEarly : banned);
            int stillActive = 0;
            for (int b = 0; b < batch; b++) {
              if (!active[b]) {
                continue;
              }
              int token = picks.tokens()[b];
              tokens[b][lengths[b]] = token;
              logProbs[b][lengths[b]] = picks.logProbs()[b];
              lengths[b]++;
              if (!options.ignoreEos() && contains(eos, token)) {
                finished[b] = true;
                active[b] = false;
              } else if (lengths[b] >= steps) {
                active[b] = false;
              } else {
                stillActive++;
              }
            }
            if (stillActive == 0) {
              break;
            }
            NDManager next = call.newSubManager();
            picks.ids().attach(next);
            logits = decodeStep(next, cache, decode, picks.ids(), s);
            step.close();
            step = next;
          }
        }
      } finally {
        step.close();
      }
    }
    int[][] outTokens = new int[batch][];
    float[][] outLogProbs = new float[batch][];
    for (int b = 0; b < batch; b++) {
      outTokens[b] = Arrays.copyOf(tokens[b], lengths[b]);
      outLogProbs[b] = Arrays.copyOf(logProbs[b], lengths[b]);
    }
    return new GenerationResult(outTokens, outLogProbs, finished);
  }

  /**
   * Feeds the ids sampled at step s ({@code [B]} on the device; a finished row feeds its last
   * sample, whose outputs are ignored and which no other row attends to) at position {@code
   * n_valid + s + rope_delta} on all three axes; returns the next logits {@code [B, V]}.
   */
  private NDArray decodeStep(NDManager step, Qwen25VlDecoder.KvCache cache,
      Qwen25VlDecodeInputs decode, NDArray ids, int s) {
    int batch = (int) ids.getShape().get(0);
    NDArray x = decoder.embedTokens(ids.reshape(batch, 1));
    NDArray[] cosSin = decode.cosSin(step, s);
    NDArray hidden = decoder.layers(x, Qwen25VlOps.as(cosSin[0], x.getDataType()),
        Qwen25VlOps.as(cosSin[1], x.getDataType()), decode.bias(step, s), cache, null);
    return logits(finalNorm(hidden.reshape(batch, config.hiddenSize())));
  }

  // ------------------------------------------------------------------ scoring and training

  /**
   * Per-token log-probabilities (and entropies if asked) of the responses under {@code
   * softmax(logits / temperature)}, without gradient.
   */
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public TokenScores score(List<Qwen25VlPrompt> prompts, int[][] responses, float temperature,
      boolean withEntropy) {
    try (Engines.NoGrad noGrad = Engines.noGrad();
        NDManager call = manager.newSubManager()) {
      ResponseTensors out = responseTensors(call, prompts, responses, temperature, withEntropy);
      float[] lp = out.logProbs().toFloatArray();
      float[] ent = withEntropy ? out.entropies().toFloatArray() : null;
      int t = (int) out.logProbs().getShape().get(1);
      float[][] logProbs = new float[responses.length][];
      float[][] entropies = withEntropy ? new float[responses.length][] : null;
      for (int b = 0; b < responses.length; b++) {
        logProbs[b] = Arrays.copyOfRange(lp, b * t, b * t + responses[b].length);
        if (withEntropy) {
          entropies[b] = Arrays.copyOfRange(ent, b * t, b * t + responses[b].length);
        }
      }
      return new TokenScores(logProbs, entropies);
    }
  }

  /**
   * The differentiable path for losses: {@code [B, T]} log-probabilities (T = longest response;
   * padded entries finite and meaningless) of each response token given its prompt and the
   * response tokens before it, under {@code softmax(logits / temperature)}; entropies
   * {@code [B, T]} when asked. With a gradient collector open, backward reaches {@link
   * #parameters()}. Prompt + response rows are left-padded; only the response positions go
   * through the LM head, in chunks of {@link #LOGIT_CHUNK_ROWS} positions. Arrays that autograd
   * keeps live in {@code m}: close it only after the backward pass.
   */
  public ResponseTensors responseTensors(NDManager m, List<Qwen25VlPrompt> prompts,
      int[][] responses, float temperature, boolean withEntropy) {
    Objects.requireNonNull(m, "manager");
    if (prompts.size() != responses.length) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts but " + responses.length + " responses");
    }
    if (!(temperature > 0f) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature=" + temperature + " must be > 0 and finite");
    }
    int batch = prompts.size();
    int longest = 1;
    for (int[] r : responses) {
      longest = Math.max(longest, r.length);
    }
    Padded in = pad(prompts, responses);
    int width = in.ids()[0].length;
    Trace t = forward(m, in.ids(), in.mask(), in.pixels(), in.grids(), false, null);
    long[] from = new long[batch * longest];
    long[] target = new long[batch * longest];
    for (int b = 0; b < batch; b++) {
      int first = width - responses[b].length; // column of response token 0
      for (int j = 0; j < longest; j++) {
        boolean real = j < responses[b].length;
        // Token j is predicted by the column before it; padded entries reuse the last column.
        from[b * longest + j] = (long) b * width + (real ? first + j - 1 : width - 1);
        target[b * longest + j] = real ? responses[b][j] : 0;
      }
    }
    NDArray hidden = t.residual().reshape((long) batch * width, config.hiddenSize());
    NDArray picked = rows(m.create(from), hidden); // [B*T, H]
    // The head runs on chunks of positions, each in its own manager: without gradient only one
    // chunk's [rows, V] logits exist at a time; with gradient autograd keeps what it needs itself.
    int total = batch * longest;
    NDList logProbChunks = new NDList();
    NDList entropyChunks = new NDList();
    for (int start = 0; start < total; start += LOGIT_CHUNK_ROWS) {
      int end = Math.min(total, start + LOGIT_CHUNK_ROWS);
      try (NDManager chunk = m.newSubManager()) {
        NDArray idx = chunk.arange(start, end).toType(DataType.INT64, false);
        NDArray z = logits(finalNorm(rows(idx, picked)));
        if (temperature != 1f) {
          z = z.div(Constants.scalar(z, temperature));
        }
        NDArray logSoftmax = z.logSoftmax(-1);
        // The gather index is kept by autograd for backward and m.create() wraps a Java buffer:
        // it lives in m (closed after backward), never in the chunk manager.
        NDArray chunkTargets =
            m.create(Arrays.copyOfRange(target, start, end), new Shape(end - start, 1));
        NDArray lp = logSoftmax.gather(chunkTargets, 1).reshape(end - start);
        lp.attach(m);
        logProbChunks.add(lp);
        if (withEntropy) {
          NDArray ent = logSoftmax.exp().mul(logSoftmax).sum(new int[] {-1}).neg();
          ent.attach(m);
          entropyChunks.add(ent);
        }
      }
    }
    NDArray logProbs = concatRows(logProbChunks).reshape(batch, longest);
    NDArray entropies = withEntropy ? concatRows(entropyChunks).reshape(batch, longest) : null;
    return new ResponseTensors(logProbs, entropies);
  }

  private static NDArray concatRows(NDList parts) {
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
  }

  // ------------------------------------------------------------------ helpers

  private static boolean contains(int[] ids, int id) {
    for (int x : ids) {
      if (x == id) {
        return true;
      }
    }
    return false;
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Frees the adapters; the base weights go with the last of this model and its views. */
  @Override
  public synchronized void close() {
    if (closed) {
      return; // a second close must not release the shared base twice
    }
    closed = true;
    try {
      if (lora != null) {
        lora.close();
      }
    } finally {
      base.release();
    }
  }

  @Override
  public String toString() {
    return "Qwen25VlModel(" + config + ", " + parameterCount + " parameters, " + device + ")";
  }
}
