package io.perlspark.model.family.qwen25vl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import io.perlspark.model.lora.LoraAdapters;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.PackedBatch;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.ResponseTensors;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link Qwen25VlModel} as the jobs' {@link PolicyModel}.
 *
 * <p>Inputs: a {@link PolicyInput} from {@link Qwen25VlPromptProcessor} holds the rendered prompt
 * ids (image pads expanded), per-image pixels and grids. Its image pad runs are laid out again from
 * the grids in the input's image order, so a permuted copy ({@link PolicyInput#withImageOrder})
 * gets the token count and M-RoPE positions of its own image order — exactly the prompt the
 * processor makes from the permuted images.
 *
 * <p>Lengths: {@code maxSequenceLength} ({@code model.maxSeqLen}) bounds prompt + response. A prompt
 * that leaves no room is refused; generation stops a row at the bound (not finished).
 *
 * <p>Parameters: the Hub names and order of {@link Qwen25VlWeights#expected}, float32. {@link
 * #parametersToBytes()} is the contract for broadcasting parameters and for checkpoints: one Java
 * {@code byte[]} holding every value (a header of names and shapes, then little-endian float32), so
 * it only serves models under about 500M parameters (a Java array's 2 GiB limit); larger models
 * need a sharded format, which this contract does not have yet.
 *
 * <p>LoRA: when the model carries adapters ({@link Qwen25VlModel#lora()}), the policy's parameters
 * are the adapters only: {@link #trainableParameters()}, the flat layout and the bytes ({@link
 * LoraAdapters#toBytes()}'s format) cover A and B of every adapted module and nothing else, so the
 * trainer broadcasts and checkpoints adapters while every JVM reads the frozen base from the
 * recipe's folder.
 */
public final class Qwen25VlPolicy implements PolicyModel {
  private static final int MAGIC = 0x51575631; // "QWV1"
  private static final int FORMAT_VERSION = 1;

  private final Qwen25VlModel model;
  private final TextTokenizer tokenizer;
  private final int maxSequenceLength;
  private final String origin;

  /**
   * @param model the loaded model; closed by {@link #close()}
   * @param tokenizer its tokenizer (not closed here)
   * @param maxSequenceLength the longest prompt + response
   * @param origin where the weights came from (for {@link #describe()})
   */
  public Qwen25VlPolicy(
      Qwen25VlModel model, TextTokenizer tokenizer, int maxSequenceLength, String origin) {
    this.model = Objects.requireNonNull(model, "model");
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    if (maxSequenceLength < 2) {
      throw new IllegalArgumentException("maxSequenceLength=" + maxSequenceLength + " must be >= 2");
    }
    this.maxSequenceLength = maxSequenceLength;
    this.origin = origin == null ? "" : origin;
  }

  /** The wrapped model. */
  public Qwen25VlModel model() {
    return model;
  }

  // ------------------------------------------------------------------ inputs

  /** The model's prompt for a policy input (image pad runs laid out from the grids). */
  Qwen25VlPrompt prompt(PolicyInput in, int index) {
    Objects.requireNonNull(in, "prompt " + index);
    Qwen25VlConfig c = model.config();
    int unit = c.vision().mergeUnit();
    int[][] grids = in.imageGrids();
    if (in.imageCount() > 0 && !in.hasImageGrids()) {
      throw new IllegalArgumentException("prompt " + index + " has " + in.imageCount()
          + " images without grids; Qwen2.5-VL inputs come from its prompt processor");
    }
    int[] ids = in.promptTokens();
    int image = c.imageTokenId();
    // Count runs first, then write each run with its image's token count.
    int runs = 0;
    long length = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == image) {
        if (i == 0 || ids[i - 1] != image) {
          runs++;
        }
      } else {
        length++;
      }
    }
    if (runs != grids.length) {
      throw new IllegalArgumentException("prompt " + index + " has " + runs
          + " runs of <|image_pad|> tokens but " + grids.length + " images");
    }
    for (int[] g : grids) {
      length += (long) g[0] * g[1] * g[2] / unit;
    }
    int[] out = new int[Math.toIntExact(length)];
    int o = 0;
    int k = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] != image) {
        out[o++] = ids[i];
      } else if (i == 0 || ids[i - 1] != image) {
        int[] grid = grids[k++];
        int n = grid[0] * grid[1] * grid[2] / unit;
        Arrays.fill(out, o, o + n, image);
        o += n;
      }
    }
    return new Qwen25VlPrompt(out, Arrays.asList(in.images()), Arrays.asList(grids));
  }

  private List<Qwen25VlPrompt> prompts(List<PolicyInput> inputs) {
    Objects.requireNonNull(inputs, "prompts");
    List<Qwen25VlPrompt> out = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      out.add(prompt(inputs.get(i), i));
    }
    return out;
  }

  private void checkLengths(List<Qwen25VlPrompt> prompts, int[][] responses) {
    if (prompts.size() != responses.length) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts but " + responses.length + " responses");
    }
    for (int b = 0; b < prompts.size(); b++) {
      long total = (long) prompts.get(b).length() + responses[b].length;
      if (total > maxSequenceLength) {
        throw new IllegalArgumentException("prompt " + b + " (" + prompts.get(b).length()
            + " tokens, image pads included) + response (" + responses[b].length + ") exceed "
            + "maxSequenceLength=" + maxSequenceLength + " (model.maxSeqLen)");
      }
    }
  }

  // ------------------------------------------------------------------ inference

  @Override
  public GenerationResult generate(List<PolicyInput> inputs, GenerationOptions options) {
    Objects.requireNonNull(options, "options");
    List<Qwen25VlPrompt> prompts = prompts(inputs);
    int[] caps = new int[prompts.size()];
    int longest = 0;
    for (int b = 0; b < prompts.size(); b++) {
      int room = maxSequenceLength - prompts.get(b).length();
      if (room < 1) {
        throw new IllegalArgumentException("prompt " + b + " has " + prompts.get(b).length()
            + " tokens (image pads included), leaving no room to generate within "
            + "maxSequenceLength=" + maxSequenceLength + " (model.maxSeqLen)");
      }
      caps[b] = Math.min(options.maxNewTokens(), room);
      longest = Math.max(longest, caps[b]);
    }
    GenerationOptions run = options;
    if (!prompts.isEmpty() && longest < options.maxNewTokens()) {
      run = new GenerationOptions(options.temperature(), options.topP(), longest,
          options.seeds(), options.ignoreEos());
    }
    GenerationResult out = model.generate(prompts, run, 0);
    // A row's tokens depend only on its own prompt and seed, so cutting a row at its bound equals
    // having stopped it there.
    int[][] tokens = out.tokens();
    float[][] logProbs = out.logProbs();
    boolean[] finished = out.finished();
    for (int b = 0; b < tokens.length; b++) {
      if (tokens[b].length > caps[b]) {
        tokens[b] = Arrays.copyOf(tokens[b], caps[b]);
        logProbs[b] = Arrays.copyOf(logProbs[b], caps[b]);
        finished[b] = false;
      }
    }
    return new GenerationResult(tokens, logProbs, finished);
  }

  @Override
  public TokenScores score(
      List<PolicyInput> inputs, int[][] responses, float temperature, boolean withEntropy) {
    List<Qwen25VlPrompt> prompts = prompts(inputs);
    checkLengths(prompts, responses);
    return model.score(prompts, responses, temperature, withEntropy);
  }

  @Override
  public Qwen25VlPackedBatch pack(List<PolicyInput> inputs, int[][] responses) {
    List<Qwen25VlPrompt> prompts = prompts(inputs);
    checkLengths(prompts, responses);
    for (int b = 0; b < prompts.size(); b++) {
      prompts.get(b).validate(b, model.config());
    }
    return new Qwen25VlPackedBatch(prompts, responses, model.config().padTokenId());
  }

  @Override
  public ResponseTensors responseTensors(
      NDManager manager, PackedBatch batch, float temperature, boolean training,
      boolean withEntropy) {
    if (!(batch instanceof Qwen25VlPackedBatch q)) {
      throw new IllegalArgumentException("a Qwen2.5-VL policy needs a batch packed by a"
          + " Qwen2.5-VL policy, got " + (batch == null ? "null" : batch.getClass().getName()));
    }
    return model.responseTensors(manager, q.prompts(), q.responses(), temperature, withEntropy);
  }

  // ------------------------------------------------------------------ parameters

  @Override
  public byte[] parametersToBytes() {
    if (model.lora() != null) {
      return model.lora().toBytes();
    }
    List<Parameter> params = model.parameters();
    long dataBytes = model.parameterCount() * Float.BYTES;
    if (dataBytes > Integer.MAX_VALUE - (1 << 20)) {
      throw new UnsupportedOperationException("the model has " + model.parameterCount()
          + " parameters; parametersToBytes() holds them in one Java byte[] (at most 2 GiB)");
    }
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(header)) {
      out.writeInt(MAGIC);
      out.writeInt(FORMAT_VERSION);
      out.writeInt(params.size());
      for (Parameter p : params) {
        out.writeUTF(p.getName());
        long[] shape = p.getArray().getShape().getShape();
        out.writeInt(shape.length);
        for (long d : shape) {
          out.writeLong(d);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] head = header.toByteArray();
    byte[] all = new byte[Math.toIntExact(head.length + dataBytes)];
    System.arraycopy(head, 0, all, 0, head.length);
    ByteBuffer data = ByteBuffer.wrap(all, head.length, (int) dataBytes)
        .order(ByteOrder.LITTLE_ENDIAN);
    for (Parameter p : params) {
      NDArray a = p.getArray();
      if (a.getDataType() != DataType.FLOAT32) {
        throw new IllegalStateException(p.getName() + " is " + a.getDataType() + ", not float32");
      }
      // One tensor at a time through native order bytes, written little-endian.
      data.asFloatBuffer().put(a.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer());
      data.position(data.position() + Math.toIntExact(a.size()) * Float.BYTES);
    }
    return all;
  }

  /** Names and shapes of parameter bytes, in order, and where their values start. */
  record Layout(LinkedHashMap<String, long[]> shapes, int dataOffset) {}

  /** Reads the header of {@link #parametersToBytes()} output. */
  static Layout layout(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    ByteArrayInputStream raw = new ByteArrayInputStream(bytes);
    try (DataInputStream in = new DataInputStream(raw)) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("not Qwen2.5-VL parameters (bad magic number);"
            + " expected bytes from Qwen25VlPolicy.parametersToBytes()");
      }
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException("Qwen2.5-VL parameter format version " + version
            + " is not supported (expected " + FORMAT_VERSION + ")");
      }
      int count = in.readInt();
      if (count < 0 || count > 1_000_000) {
        throw new IllegalArgumentException("corrupt Qwen2.5-VL parameters: " + count + " tensors");
      }
      LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        int rank = in.readInt();
        if (rank < 0 || rank > 8) {
          throw new IllegalArgumentException("corrupt Qwen2.5-VL parameters: rank " + rank);
        }
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
          shape[d] = in.readLong();
        }
        shapes.put(name, shape);
      }
      return new Layout(shapes, bytes.length - raw.available());
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated or corrupt Qwen2.5-VL parameters", e);
    }
  }

  /**
   * Checks that parameter bytes hold exactly the tensors {@code expected} (names, order, shapes)
   * and nothing else.
   *
   * @throws IllegalArgumentException naming the first difference
   */
  static Layout check(byte[] bytes, Map<String, long[]> expected) {
    Layout layout = layout(bytes);
    List<String> names = new ArrayList<>(layout.shapes().keySet());
    List<String> want = new ArrayList<>(expected.keySet());
    if (!names.equals(want)) {
      for (int i = 0; i < Math.min(names.size(), want.size()); i++) {
        if (!names.get(i).equals(want.get(i))) {
          throw new IllegalArgumentException("parameter " + i + " is " + names.get(i)
              + " but this model's is " + want.get(i));
        }
      }
      throw new IllegalArgumentException("parameters hold " + names.size()
          + " tensors, this model has " + want.size());
    }
    long values = 0;
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      long[] got = layout.shapes().get(e.getKey());
      if (!Arrays.equals(got, e.getValue())) {
        throw new IllegalArgumentException("parameter " + e.getKey() + " has shape "
            + Arrays.toString(got) + " but this model's is " + Arrays.toString(e.getValue()));
      }
      long n = 1;
      for (long d : got) {
        n *= d;
      }
      values += n;
    }
    long expectedLength = layout.dataOffset() + values * Float.BYTES;
    if (bytes.length != expectedLength) {
      throw new IllegalArgumentException("parameter bytes are " + bytes.length
          + " long, the tensors need " + expectedLength + " (truncated or trailing bytes)");
    }
    return layout;
  }

  /** This model's names and shapes, in order. */
  Map<String, long[]> shapes() {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Parameter p : model.parameters()) {
      out.put(p.getName(), p.getArray().getShape().getShape());
    }
    return out;
  }

  @Override
  public void loadParameters(byte[] bytes) {
    // Everything is checked before the first write: bad bytes leave the model unchanged.
    LoraAdapters lora = model.lora();
    if (lora != null) {
      Objects.requireNonNull(bytes, "bytes");
      float[] values = LoraAdapters.valuesOf(bytes, lora.config().r(), lora.modules());
      int[] at = {0};
      writeInPlace((p, v) -> {
        System.arraycopy(values, at[0], v, 0, v.length);
        at[0] += v.length;
      });
      return;
    }
    Layout layout = check(bytes, shapes());
    ByteBuffer data = ByteBuffer.wrap(bytes, layout.dataOffset(),
        bytes.length - layout.dataOffset()).order(ByteOrder.LITTLE_ENDIAN);
    writeInPlace((p, v) -> {
      data.asFloatBuffer().get(v);
      data.position(data.position() + v.length * Float.BYTES);
    });
  }

  /** Fills a parameter's values (a float[] of its size) for {@link #writeInPlace}. */
  private interface Source {
    void fill(Parameter p, float[] values);
  }

  /**
   * Overwrites every parameter's values in place, in {@link #trainableParameters()} order.
   *
   * <p>Not {@code NDArray.set(float[])} (what {@code FlatParameters.setValues} uses): on CPU that
   * rebinds the tensor to a Java direct buffer that only the DJL handle keeps alive. Here the values
   * go through a PyTorch-owned copy and are written into the parameter's own storage by an index
   * assignment, so parameters always live in PyTorch memory, whatever the GC does.
   */
  @SuppressWarnings("try") // the NoGrad scope is used only for its close()
  private void writeInPlace(Source source) {
    try (Engines.NoGrad noGrad = Engines.noGrad()) {
      for (Parameter p : trainableParameters()) {
        NDArray a = p.getArray();
        float[] v = new float[Math.toIntExact(a.size())];
        source.fill(p, v);
        try (NDManager tmp = model.manager().newSubManager()) {
          NDArray owned = Qwen25VlOps.owned(tmp, v, a.getShape());
          a.set(new NDIndex(":"), owned);
        }
      }
    }
  }

  @Override
  public List<Parameter> trainableParameters() {
    return model.lora() != null ? model.lora().parameters() : model.parameters();
  }

  @Override
  public long parameterCount() {
    return model.lora() != null ? model.lora().parameterCount() : model.parameterCount();
  }

  @Override
  public float[] flatParameters() {
    return model.lora() != null ? model.lora().flat() : model.flatParameters();
  }

  /** As {@link Qwen25VlModel#setFlatParameters}, written into native storage (see {@link #writeInPlace}). */
  @Override
  public void setFlatParameters(float[] values) {
    Objects.requireNonNull(values, "values");
    if (values.length != parameterCount()) {
      throw new IllegalArgumentException("got " + values.length + " values but the model has "
          + parameterCount() + " trainable parameters");
    }
    int[] at = {0};
    writeInPlace((p, v) -> {
      System.arraycopy(values, at[0], v, 0, v.length);
      at[0] += v.length;
    });
  }

  @Override
  public Device device() {
    return model.device();
  }

  @Override
  public int maxSequenceLength() {
    return maxSequenceLength;
  }

  @Override
  public String describe() {
    Qwen25VlConfig c = model.config();
    return "qwen2_5_vl " + origin + " (hidden=" + c.hiddenSize() + ", layers=" + c.numLayers()
        + ", vision depth=" + c.vision().depth() + ", vocab=" + c.vocabSize() + ", "
        + model.parameterCount() + " parameters, "
        + model.dtype().toString().toLowerCase(java.util.Locale.ROOT) + ", maxSeqLen="
        + maxSequenceLength
        + (model.lora() == null ? "" : ", LoRA r=" + model.lora().config().r() + " on "
            + model.lora().modules().size() + " modules: " + model.lora().parameterCount()
            + " trainable") + ")";
  }

  @Override
  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /** {@inheritDoc} Base weights plus adapters; a view's adapters only. */
  @Override
  public long nativeBytes() {
    return model.nativeBytes();
  }

  /**
   * {@inheritDoc} For a LoRA model: {@link Qwen25VlModel#newAdapterView} with this policy's
   * tokenizer and bounds; empty for a full fine-tune (its parameters are the weights).
   */
  @Override
  public Optional<PolicyModel> newAdapterView() {
    if (model.lora() == null) {
      return Optional.empty();
    }
    return Optional.of(new Qwen25VlPolicy(model.newAdapterView(), tokenizer, maxSequenceLength,
        origin));
  }

  @Override
  public void close() {
    model.close();
  }

  @Override
  public String toString() {
    return "Qwen25VlPolicy(" + describe() + ")";
  }
}
