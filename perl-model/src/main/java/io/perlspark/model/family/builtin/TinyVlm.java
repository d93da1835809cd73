package io.perlspark.model.family.builtin;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import io.perlspark.model.policy.Constants;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.policy.TokenSampler;
import io.perlspark.model.policy.TokenScores;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The built-in policy: a tiny vision-language model (patch encoder + causal pre-LN transformer
 * decoder over one interleaved sequence, see {@link TinyVlmBlock}) on DJL's PyTorch engine.
 *
 * <p>Generation prefills the left-padded prompts in one batch, then decodes one token per step
 * using cached keys and values; {@link #generateNoCache} recomputes the whole sequence each step
 * (for tests and benchmarks). Left padding is invisible to the model: pad columns are masked out
 * of attention and positions count from each sequence's own bos, so a sequence's logits do not
 * depend on the other prompts of the batch (up to float rounding).
 */
public final class TinyVlm implements PolicyModel {
  /** Additive attention bias of a masked key: finite, so a fully masked row stays finite. */
  static final float MASKED = -1e9f;

  private static final int MAGIC = 0x50535056; // "PSPV"
  private static final int FORMAT_VERSION = 1;

  private final ModelSpec spec;
  private final TextTokenizer tokenizer;
  private final Device device;
  private final NDManager manager;
  private final TinyVlmBlock block;
  private final List<Parameter> parameters;
  private final long parameterCount;

  private TinyVlm(ModelSpec spec, TextTokenizer tokenizer, Device device, long seed) {
    this.spec = spec;
    this.tokenizer = tokenizer;
    this.device = device;
    if (tokenizer.vocabSize() != spec.vocabSize()) {
      throw new IllegalArgumentException(
          "model spec has vocabSize="
              + spec.vocabSize()
              + " but the tokenizer has "
              + tokenizer.vocabSize()
              + " ids; use spec.withVocabSize("
              + tokenizer.vocabSize()
              + ")");
    }
    Engines.engine();
    this.manager = NDManager.newBaseManager(device, Engines.ENGINE_NAME);
    manager.setName("TinyVlm");
    try {
      this.block = new TinyVlmBlock(spec, seed);
      block.initialize(manager, DataType.FLOAT32, new Shape(1, 1));
      this.parameters = block.orderedParameters();
      long n = 0;
      for (Parameter p : parameters) {
        n += p.getArray().size();
      }
      this.parameterCount = n;
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- generation

  @Override
  public GenerationResult generate(List<PolicyInput> prompts, GenerationOptions options) {
    return run(prompts, options, true, null);
  }

  /** As {@link #generate}, but recomputing the whole sequence at every step (no KV cache). */
  public GenerationResult generateNoCache(List<PolicyInput> prompts, GenerationOptions options) {
    return run(prompts, options, false, null);
  }

  /** Generation that also records the logits {@code [B * V]} of every decoding step. */
  GenerationResult generateTraced(
      List<PolicyInput> prompts, GenerationOptions options, boolean useCache, List<float[]> trace) {
    return run(prompts, options, useCache, trace);
  }

  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  private GenerationResult run(
      List<PolicyInput> prompts, GenerationOptions options, boolean useCache, List<float[]> trace) {
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
    int[] promptLengths = new int[batch];
    int[] caps = new int[batch];
    int width = 0;
    int steps = 0;
    for (int b = 0; b < batch; b++) {
      PolicyInput p = Objects.requireNonNull(prompts.get(b), "prompt " + b);
      Sequences.checkPrompt(b, p, spec, tokenizer.imageId());
      promptLengths[b] = Sequences.promptLength(p, spec);
      if (promptLengths[b] >= spec.maxSeqLen()) {
        throw new IllegalArgumentException(
            "prompt " + b + " takes " + promptLengths[b] + " positions (bos, "
                + (p.promptTokens().length - p.images().length) + " text tokens, "
                + p.images().length + " images x " + spec.patchesPerImage()
                + " patches), leaving no room to generate within maxSeqLen=" + spec.maxSeqLen());
      }
      caps[b] = Math.min(options.maxNewTokens(), spec.maxSeqLen() - promptLengths[b]);
      width = Math.max(width, promptLengths[b]);
      steps = Math.max(steps, caps[b]);
    }
    int images = Sequences.totalImages(prompts);
    long tokenOffset = (long) images * spec.patchesPerImage();
    long[] rows = new long[batch * width];
    long[] positions = new long[batch * width];
    boolean[] padColumn = new boolean[batch * width];
    int firstImage = 0;
    for (int b = 0; b < batch; b++) {
      int pad = width - promptLengths[b];
      Arrays.fill(rows, b * width, b * width + pad, tokenOffset + tokenizer.padId());
      Arrays.fill(padColumn, b * width, b * width + pad, true);
      Sequences.writePrompt(
          prompts.get(b), rows, b * width + pad, firstImage, spec, tokenOffset,
          tokenizer.bosId(), tokenizer.imageId());
      firstImage += prompts.get(b).images().length;
      for (int c = pad; c < width; c++) {
        positions[b * width + c] = c - pad;
      }
    }
    float[] patches = Sequences.patches(prompts, spec);

    int vocab = spec.vocabSize();
    TokenSampler sampler = new TokenSampler(options, vocab);
    int[][] tokens = new int[batch][steps];
    float[][] logProbs = new float[batch][steps];
    int[] lengths = new int[batch];
    boolean[] finished = new boolean[batch];
    boolean[] active = new boolean[batch];
    Arrays.fill(active, true);

    try (Engines.NoGrad noGrad = Engines.noGrad();
        NDManager call = manager.newSubManager();
        KvCache cache = useCache ? new KvCache(call, spec.layers()) : null) {
      float[] logits;
      try (NDManager step = call.newSubManager()) {
        NDArray x = block.embed(step, rows, positions, batch, width, patches, images);
        NDArray bias =
            step.create(attentionBias(batch, width, padColumn), new Shape(batch, 1, width, width));
        NDArray last = TinyVlmBlock.lastPosition(block.decode(x, bias, cache));
        logits = block.head(last).toFloatArray();
      }
      for (int s = 0; ; s++) {
        if (trace != null) {
          trace.add(logits.clone());
        }
        int stillActive = 0;
        for (int b = 0; b < batch; b++) {
          if (!active[b]) {
            continue;
          }
          int token = sampler.next(b, logits, b * vocab);
          tokens[b][lengths[b]] = token;
          logProbs[b][lengths[b]] = sampler.lastLogProb();
          lengths[b]++;
          if (token == tokenizer.eosId() && !options.ignoreEos()) {
            finished[b] = true;
            active[b] = false;
          } else if (lengths[b] >= caps[b]) {
            active[b] = false;
          } else {
            stillActive++;
          }
        }
        if (stillActive == 0) {
          break;
        }
        try (NDManager step = call.newSubManager()) {
          NDArray hidden;
          if (useCache) {
            hidden = decodeStep(step, cache, tokens, active, promptLengths, padColumn, width, s);
          } else {
            hidden = recompute(step, rows, positions, padColumn, patches, images, tokenOffset,
                tokens, lengths, active, promptLengths, width, s);
          }
          logits = block.head(hidden).toFloatArray();
        }
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

  /** The input token after step s for row b: its token s while it generates, else pad. */
  private int stepToken(int[][] tokens, boolean[] active, int b, int s) {
    return active[b] ? tokens[b][s] : tokenizer.padId();
  }

  /** Position of generated token {@code s} of row b; done rows are clamped into the table. */
  private long stepPosition(int[] promptLengths, int b, int s) {
    return Math.min(promptLengths[b] + s, spec.maxSeqLen() - 1);
  }

  /** One KV-cached step: feeds token s of every row; returns the hidden state {@code [B, d]}. */
  private NDArray decodeStep(
      NDManager step, KvCache cache, int[][] tokens, boolean[] active, int[] promptLengths,
      boolean[] padColumn, int width, int s) {
    int batch = tokens.length;
    long[] rows = new long[batch];
    long[] positions = new long[batch];
    for (int b = 0; b < batch; b++) {
      rows[b] = stepToken(tokens, active, b, s);
      positions[b] = stepPosition(promptLengths, b, s);
    }
    int keys = width + s + 1;
    float[] bias = new float[batch * keys];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < width; j++) {
        if (padColumn[b * width + j]) {
          bias[b * keys + j] = MASKED;
        }
      }
    }
    NDArray x = block.embed(step, rows, positions, batch, 1, null, 0);
    NDArray biasArray = step.create(bias, new Shape(batch, 1, 1, keys));
    return block.decode(x, biasArray, cache).reshape(batch, spec.dModel());
  }

  /** One step without cache: the whole left-padded sequence so far; returns {@code [B, d]}. */
  private NDArray recompute(
      NDManager step, long[] promptRows, long[] promptPositions, boolean[] promptPads,
      float[] patches, int images, long tokenOffset, int[][] tokens, int[] lengths,
      boolean[] active, int[] promptLengths, int width, int s) {
    int batch = tokens.length;
    int total = width + s + 1;
    long[] rows = new long[batch * total];
    long[] positions = new long[batch * total];
    boolean[] pads = new boolean[batch * total];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(promptRows, b * width, rows, b * total, width);
      System.arraycopy(promptPositions, b * width, positions, b * total, width);
      System.arraycopy(promptPads, b * width, pads, b * total, width);
      for (int j = 0; j <= s; j++) {
        // Column j holds token j if the row was still generating after step j, else pad: exactly
        // what the cached path fed at step j.
        boolean fed = active[b] || j < lengths[b] - 1;
        int token = fed ? tokens[b][j] : tokenizer.padId();
        rows[b * total + width + j] = tokenOffset + token;
        positions[b * total + width + j] = stepPosition(promptLengths, b, j);
      }
    }
    NDArray x = block.embed(step, rows, positions, batch, total, patches, images);
    NDArray bias =
        step.create(attentionBias(batch, total, pads), new Shape(batch, 1, total, total));
    return TinyVlmBlock.lastPosition(block.decode(x, bias, null));
  }

  /** Causal bias that also masks pad keys: {@code [B, 1, L, L]} flattened. */
  static float[] attentionBias(int batch, int length, boolean[] padColumn) {
    float[] bias = new float[batch * length * length];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < length; i++) {
        int row = (b * length + i) * length;
        for (int j = 0; j < length; j++) {
          if (j > i || padColumn[b * length + j]) {
            bias[row + j] = MASKED;
          }
        }
      }
    }
    return bias;
  }

  /** Causal bias {@code [1, 1, L, L]} flattened. */
  static float[] causalBias(int length) {
    float[] bias = new float[length * length];
    for (int i = 0; i < length; i++) {
      for (int j = i + 1; j < length; j++) {
        bias[i * length + j] = MASKED;
      }
    }
    return bias;
  }

  // ---------------------------------------------------------------- scoring and training path

  @Override
  public TinyVlmBatch pack(List<PolicyInput> prompts, int[][] responses) {
    return TinyVlmBatch.pack(prompts, responses, tokenizer, spec);
  }

  @Override
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public TokenScores score(
      List<PolicyInput> prompts, int[][] responses, float temperature, boolean withEntropy) {
    TinyVlmBatch batch = pack(prompts, responses);
    try (Engines.NoGrad noGrad = Engines.noGrad();
        NDManager call = manager.newSubManager()) {
      ResponseTensors out = responseTensors(call, batch, temperature, false, withEntropy);
      float[][] logProbs = batch.unpad(out.logProbs().toFloatArray());
      float[][] entropies = withEntropy ? batch.unpad(out.entropies().toFloatArray()) : null;
      return new TokenScores(logProbs, entropies);
    }
  }

  @Override
  public ResponseTensors responseTensors(
      NDManager manager,
      PackedBatch packed,
      float temperature,
      boolean training,
      boolean withEntropy) {
    Objects.requireNonNull(manager, "manager");
    Objects.requireNonNull(packed, "batch");
    if (!(packed instanceof TinyVlmBatch batch)) {
      throw new IllegalArgumentException(
          "batch " + packed.getClass().getSimpleName() + " was packed by another model family;"
              + " pack it with this model's pack()");
    }
    if (!(temperature > 0f) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException(
          "temperature=" + temperature + " must be > 0 and finite for scoring (greedy rollouts are"
              + " scored at 1)");
    }
    if (!batch.spec().equals(spec)) {
      throw new IllegalArgumentException(
          "batch was packed for " + batch.spec() + " but this model is " + spec);
    }
    // Inputs are made on the model's device; results then follow them there.
    NDManager m = manager.getDevice().equals(device) ? manager : manager.newSubManager(device);
    int b = batch.batchSize();
    int length = batch.sequenceLength();
    int t = batch.responseLength();
    NDArray x =
        block.embed(m, batch.tableRows(), batch.positions(), b, length, batch.patches(),
            batch.imageCount());
    NDArray bias = m.create(causalBias(length), new Shape(1, 1, length, length));
    NDArray hidden = block.decode(x, bias, null).reshape((long) b * length, spec.dModel());
    NDArray outputRows = m.create(batch.outputRows(), new Shape(b, t));
    NDArray logits = block.head(TinyVlmBlock.embedding(outputRows, hidden));
    if (temperature != 1f) {
      logits = logits.div(Constants.scalar(logits, temperature));
    }
    NDArray logSoftmax = logits.logSoftmax(-1);
    NDArray targets = m.create(batch.targetArray(), new Shape(b, t, 1));
    NDArray logProbs = logSoftmax.gather(targets, 2).reshape(b, t);
    NDArray entropies = null;
    if (withEntropy) {
      entropies = logSoftmax.exp().mul(logSoftmax).sum(new int[] {-1}).neg();
    }
    if (m != manager) {
      logProbs.attach(manager);
      if (entropies != null) {
        entropies.attach(manager);
      }
    }
    return new ResponseTensors(logProbs, entropies);
  }

  // ---------------------------------------------------------------- parameters

  @Override
  public byte[] parametersToBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) (parameterCount * 4 + 4096));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(FORMAT_VERSION);
      writeSpec(out, spec);
      out.writeInt(parameters.size());
      for (Parameter p : parameters) {
        out.writeUTF(p.getName());
        long[] shape = p.getArray().getShape().getShape();
        out.writeInt(shape.length);
        for (long dim : shape) {
          out.writeLong(dim);
        }
        float[] values = p.getArray().toFloatArray();
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        out.write(buf.array());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Override
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public void loadParameters(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    List<float[]> values = new ArrayList<>(parameters.size());
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException(
            "not TinyVlm parameters (bad magic number); expected bytes from parametersToBytes()");
      }
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException(
            "TinyVlm parameter format version " + version + " is not supported (expected "
                + FORMAT_VERSION + ")");
      }
      ModelSpec stored = readSpec(in);
      if (!stored.equals(spec)) {
        throw new IllegalArgumentException(
            "parameters are for " + stored + " but this model is " + spec);
      }
      int count = in.readInt();
      if (count != parameters.size()) {
        throw new IllegalArgumentException(
            "parameters hold " + count + " tensors, this model has " + parameters.size());
      }
      for (Parameter p : parameters) {
        String name = in.readUTF();
        long[] shape = new long[in.readInt()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = in.readLong();
        }
        long[] expected = p.getArray().getShape().getShape();
        if (!name.equals(p.getName()) || !Arrays.equals(shape, expected)) {
          throw new IllegalArgumentException(
              "parameter " + values.size() + " is " + name + Arrays.toString(shape)
                  + " but this model expects " + p.getName() + Arrays.toString(expected));
        }
        byte[] raw = new byte[Math.toIntExact(new Shape(shape).size() * 4)];
        in.readFully(raw);
        float[] v = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        values.add(v);
      }
      if (in.available() > 0) {
        throw new IllegalArgumentException(
            "parameter bytes have " + in.available() + " unexpected trailing bytes");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated or corrupt TinyVlm parameters", e);
    }
    // Everything was validated before the first write: a bad blob leaves the model unchanged.
    try (Engines.NoGrad noGrad = Engines.noGrad()) {
      for (int i = 0; i < parameters.size(); i++) {
        parameters.get(i).getArray().set(values.get(i));
      }
    }
  }

  @Override
  public float[] flatParameters() {
    float[] out = new float[Math.toIntExact(parameterCount)];
    int at = 0;
    for (Parameter p : parameters) {
      float[] v = p.getArray().toFloatArray();
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  @Override
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  public void setFlatParameters(float[] values) {
    Objects.requireNonNull(values, "values");
    if (values.length != parameterCount) {
      throw new IllegalArgumentException(
          "got " + values.length + " values but the model has " + parameterCount + " parameters");
    }
    try (Engines.NoGrad noGrad = Engines.noGrad()) {
      int at = 0;
      for (Parameter p : parameters) {
        int n = Math.toIntExact(p.getArray().size());
        p.getArray().set(Arrays.copyOfRange(values, at, at + n));
        at += n;
      }
    }
  }

  private static void writeSpec(DataOutputStream out, ModelSpec s) throws IOException {
    out.writeInt(s.vocabSize());
    out.writeInt(s.imageSize());
    out.writeInt(s.patchSize());
    out.writeInt(s.channels());
    out.writeInt(s.dModel());
    out.writeInt(s.layers());
    out.writeInt(s.heads());
    out.writeInt(s.ffnMult());
    out.writeInt(s.maxSeqLen());
    out.writeBoolean(s.tiedHead());
  }

  private static ModelSpec readSpec(DataInputStream in) throws IOException {
    return new ModelSpec(
        in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
        in.readInt(), in.readInt(), in.readInt(), in.readBoolean());
  }

  /** The spec stored in parameter bytes, to build a matching model before loading them. */
  public static ModelSpec specOf(byte[] parameterBytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(parameterBytes))) {
      if (in.readInt() != MAGIC || in.readInt() != FORMAT_VERSION) {
        throw new IllegalArgumentException("not TinyVlm parameters of format " + FORMAT_VERSION);
      }
      return readSpec(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated TinyVlm parameters", e);
    }
  }

  @Override
  public List<Parameter> trainableParameters() {
    return parameters;
  }

  @Override
  public long parameterCount() {
    return parameterCount;
  }

  /** The DJL block (for interop with DJL's Model and Trainer APIs). */
  public Block block() {
    return block;
  }

  /** The manager that owns the parameters; open sub-managers of it for temporaries. */
  public NDManager manager() {
    return manager;
  }

  @Override
  public Device device() {
    return device;
  }

  /** This model's sizes. */
  public ModelSpec spec() {
    return spec;
  }

  @Override
  public int maxSequenceLength() {
    return spec.maxSeqLen();
  }

  @Override
  public String describe() {
    return BuiltinFamily.NAME + " " + this;
  }

  @Override
  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "TinyVlm(" + spec + ", " + parameterCount + " parameters, " + device + ")";
  }

  /** Builds a {@link TinyVlm}; spec and tokenizer are required. */
  public static final class Builder {
    private ModelSpec spec;
    private TextTokenizer tokenizer;
    private Device device = Device.cpu();
    private long seed;

    private Builder() {}

    public Builder setSpec(ModelSpec spec) {
      this.spec = spec;
      return this;
    }

    public Builder setTokenizer(TextTokenizer tokenizer) {
      this.tokenizer = tokenizer;
      return this;
    }

    public Builder optDevice(Device device) {
      this.device = device;
      return this;
    }

    /** Seed of the parameter initialisation: equal seeds give identical parameters. */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    public TinyVlm build() {
      if (spec == null) {
        throw new IllegalArgumentException("TinyVlm.builder() needs setSpec(ModelSpec)");
      }
      if (tokenizer == null) {
        throw new IllegalArgumentException("TinyVlm.builder() needs setTokenizer(TextTokenizer)");
      }
      return new TinyVlm(spec, tokenizer, Objects.requireNonNull(device, "device"), seed);
    }
  }
}
