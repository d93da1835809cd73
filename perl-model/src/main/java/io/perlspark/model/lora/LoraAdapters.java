package io.perlspark.model.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.perlspark.common.Seeds;
import io.perlspark.model.learn.FlatParameters;
import io.perlspark.model.policy.Casts;
import io.perlspark.model.policy.Constants;
import io.perlspark.model.policy.Engines;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The LoRA adapters of a model: for each adapted linear module {@code y = x W^T}, a pair {@code A
 * [r, in]}, {@code B [out, r]} (float32 DJL {@link Parameter}s that require gradients), giving
 * {@code y = x W^T + scale * (x A^T) B^T}. The base weights are not here and get no gradient.
 *
 * <p><b>Order</b> (of {@link #parameters()}, {@link #flat()} and {@link #toBytes()}): modules in
 * the order given to {@link #create}, and for each module A then B, each row-major.
 *
 * <p><b>Initialisation</b>, PEFT's {@code init_lora_weights=True} ({@code reset_lora_parameters}
 * in peft/tuners/lora/layer.py): A as {@code nn.init.kaiming_uniform_(a=sqrt(5))}, that is
 * U(-bound, bound) with bound = sqrt(6 / ((1 + a^2) fan_in)) = 1 / sqrt(in); B zeros. So at step
 * 0 the adapted model is the base model exactly. Module i draws from its own generator seeded by
 * {@code Seeds.derive(seed, tag, i)}: the same seed gives the same A on every executor, and
 * adding modules at the end leaves the earlier ones unchanged.
 *
 * <p>There is no on/off switch: inference runs from several threads at once, and a shared switch
 * flipped for the KL reference would change the policy under a concurrent call. The reference is
 * a second set of adapters over the same base instead ({@code PolicyModel.newAdapterView}): with
 * B = 0 it is the base exactly, without a second copy of the base weights.
 */
public final class LoraAdapters implements AutoCloseable {
  /** Domain tag in the seed derivation, so LoRA's draws never coincide with other uses of a seed. */
  private static final long SEED_TAG = Seeds.hash("perl.lora.A");

  /** Bytes format: magic, version, then the layout, then raw float bits. */
  private static final int MAGIC = 0x4C6F5241; // "LoRA"
  private static final int VERSION = 1;

  /** A linear module to adapt: its Hub name (no {@code .weight}) and {@code W [out, in]}'s sizes. */
  public record Module(String name, long inFeatures, long outFeatures) {
    public Module {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("module name is empty");
      }
      if (inFeatures < 1 || outFeatures < 1) {
        throw new IllegalArgumentException("module " + name + " has in_features " + inFeatures
            + " and out_features " + outFeatures + "; both must be at least 1");
      }
    }
  }

  /** One module's pair. */
  private record Pair(Module module, Parameter a, Parameter b) {}

  private final LoraConfig config;
  private final NDManager manager;
  private final Map<String, Pair> pairs;
  private final List<Module> modules;
  private final List<Parameter> parameters;
  private final long parameterCount;

  private LoraAdapters(LoraConfig config, NDManager manager, Map<String, Pair> pairs) {
    this.config = config;
    this.manager = manager;
    this.pairs = pairs;
    List<Module> ms = new ArrayList<>();
    List<Parameter> ps = new ArrayList<>();
    long n = 0;
    for (Pair p : pairs.values()) {
      ms.add(p.module());
      ps.add(p.a());
      ps.add(p.b());
      n += (long) config.r() * (p.module().inFeatures() + p.module().outFeatures());
    }
    this.modules = Collections.unmodifiableList(ms);
    this.parameters = Collections.unmodifiableList(ps);
    this.parameterCount = n;
  }

  /**
   * The modules a model adapts, from its weights' names and shapes (as in a Hub checkpoint:
   * {@code <module>.weight -> [out, in]}), in the map's iteration order: every 2-D {@code .weight}
   * whose module the config targets. Biases, norms (1-D) and untargeted modules are skipped.
   */
  public static List<Module> modulesOf(LoraConfig config, Map<String, long[]> weightShapes) {
    List<Module> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : weightShapes.entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      if (!name.endsWith(".weight") || shape.length != 2) {
        continue;
      }
      String module = name.substring(0, name.length() - ".weight".length());
      if (config.targets(module)) {
        out.add(new Module(module, shape[1], shape[0]));
      }
    }
    return out;
  }

  /**
   * New adapters for {@code modules} (each must be targeted by {@code config}, names distinct),
   * initialised as PEFT does from {@code seed}, on {@code device}.
   */
  public static LoraAdapters create(LoraConfig config, List<Module> modules, long seed,
      Device device) {
    return build(config, modules, device, (i, m) -> initialA(seed, i, m, config.r()));
  }

  /** Adapters with every value zero (filled afterwards, e.g. by a reader). */
  static LoraAdapters zeros(LoraConfig config, List<Module> modules, Device device) {
    return build(config, modules, device, (i, m) -> new float[Math.toIntExact(config.r() * m.inFeatures())]);
  }

  private interface AInit {
    float[] values(int index, Module module);
  }

  private static LoraAdapters build(LoraConfig config, List<Module> modules, Device device,
      AInit aInit) {
    if (modules.isEmpty()) {
      throw new IllegalArgumentException("no modules to adapt");
    }
    for (Module m : modules) {
      if (!config.targets(m.name())) {
        throw new IllegalArgumentException("module " + m.name() + " is not targeted by the LoRA "
            + "config (target_modules " + config.peftTargetModules() + ")");
      }
    }
    Engines.engine();
    NDManager manager = NDManager.newBaseManager(device, Engines.ENGINE_NAME);
    manager.setName("LoraAdapters");
    try {
      Map<String, Pair> pairs = new LinkedHashMap<>();
      int r = config.r();
      for (int i = 0; i < modules.size(); i++) {
        Module m = modules.get(i);
        if (pairs.containsKey(m.name())) {
          throw new IllegalArgumentException("module " + m.name() + " is listed twice");
        }
        Parameter a = parameter(manager, m.name() + ".lora_A", aInit.values(i, m),
            new Shape(r, m.inFeatures()));
        Parameter b = parameter(manager, m.name() + ".lora_B",
            new float[Math.toIntExact(m.outFeatures() * r)], new Shape(m.outFeatures(), r));
        pairs.put(m.name(), new Pair(m, a, b));
      }
      return new LoraAdapters(config, manager, pairs);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** A's values for module {@code index}: U(-1/sqrt(in), 1/sqrt(in)), row-major [r, in]. */
  static float[] initialA(long seed, int index, Module m, int r) {
    SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, SEED_TAG, index));
    // kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = gain * sqrt(3 / fan_in)
    double a = Math.sqrt(5);
    double bound = Math.sqrt(2.0 / (1 + a * a)) * Math.sqrt(3.0 / m.inFeatures());
    float[] v = new float[Math.toIntExact(r * m.inFeatures())];
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) ((2 * rng.nextDouble() - 1) * bound);
    }
    return v;
  }

  /** The parameter's array lives in PyTorch-owned memory of {@code manager} (see Constants). */
  private static Parameter parameter(NDManager manager, String name, float[] values, Shape shape) {
    NDArray array;
    try (NDArray javaBacked = manager.create(values, shape)) {
      // duplicate() clones into PyTorch memory; toType(FLOAT32, true) would not: DJL's torchTo
      // has no copy flag, so a same-type conversion ALIASES the Java buffer, which the GC frees
      // after javaBacked closes (garbage or NaN adapters; see Qwen25VlOps.owned)
      array = javaBacked.duplicate();
    }
    array.setName(name);
    array.setRequiresGradient(true);
    Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
    p.setArray(array);
    return p;
  }

  public LoraConfig config() {
    return config;
  }

  /** {@code alpha / r} or {@code alpha / sqrt(r)} (rsLoRA). */
  public double scale() {
    return config.scale();
  }

  /** Adapted modules, in order. */
  public List<Module> modules() {
    return modules;
  }

  public boolean has(String moduleName) {
    return pairs.containsKey(moduleName);
  }

  /** A, B, A, B, ... in module order: what the optimizer updates. */
  public List<Parameter> parameters() {
    return parameters;
  }

  /** A {@code [r, in]} of a module. */
  public NDArray a(String moduleName) {
    return pair(moduleName).a().getArray();
  }

  /** B {@code [out, r]} of a module. */
  public NDArray b(String moduleName) {
    return pair(moduleName).b().getArray();
  }

  /**
   * {@code baseOutput + scale * (x A^T) B^T} for the module, differentiable in A and B (and x).
   * {@code x [..., in]}, {@code baseOutput [..., out]}. The result joins {@code baseOutput}'s
   * manager; temporaries join {@code x}'s.
   *
   * <p>Bitwise at initialisation: B = 0 makes the update exactly 0, and {@code y + 0 == y} for
   * every y except -0.0, which becomes +0.0 (equal as numbers); also through the float32 round
   * trip of a half-precision base output, which widens and narrows exactly.
   */
  public NDArray apply(String moduleName, NDArray x, NDArray baseOutput) {
    Pair p = pair(moduleName);
    // A half-precision base: as PEFT, x is cast to the adapters' type (float32), the update is
    // added to the widened base output and the sum cast back to the base output's type.
    NDArray a = p.a().getArray();
    DataType outputType = baseOutput.getDataType();
    NDArray in = Casts.to(x, a.getDataType()); // differentiable: earlier adapters need dL/dx
    // the activation is the first operand, so results attach to its manager, not to ours
    NDArray down = in.getNDArrayInternal().linear(in, a, null).singletonOrThrow();
    NDArray up = down.getNDArrayInternal().linear(down, p.b().getArray(), null).singletonOrThrow();
    NDArray update = up.mul(Constants.scalar(up, config.scale()));
    if (outputType == update.getDataType()) {
      return baseOutput.add(update);
    }
    return Casts.to(Casts.to(baseOutput, update.getDataType()).add(update), outputType);
  }

  private Pair pair(String moduleName) {
    Pair p = pairs.get(moduleName);
    if (p == null) {
      throw new IllegalArgumentException("no LoRA adapter for module " + moduleName);
    }
    return p;
  }

  /** Native bytes of A and B (float32). */
  public long nativeBytes() {
    return parameterCount * Float.BYTES;
  }

  /** Number of trainable values: sum of r * (in + out). */
  public long parameterCount() {
    return parameterCount;
  }

  /** All values in the documented order. */
  public float[] flat() {
    return FlatParameters.values(parameters);
  }

  /** Overwrites all values in place (the same Parameter objects and arrays stay). */
  public void setFlat(float[] values) {
    FlatParameters.setValues(parameters, values);
  }

  /**
   * The adapters as bytes: a header (magic, version, r, module count, each module's name, in and
   * out) and the float bits in the documented order. {@link #loadBytes} accepts only bytes of the
   * same layout, so a broadcast can never load into the wrong modules.
   */
  public byte[] toBytes() {
    float[] v = flat();
    ByteArrayOutputStream bos = new ByteArrayOutputStream(v.length * 4 + 64 * modules.size() + 16);
    try (DataOutputStream out = new DataOutputStream(bos)) {
      writeLayout(out);
      for (float f : v) {
        out.writeInt(Float.floatToRawIntBits(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bos.toByteArray();
  }

  /** Loads {@link #toBytes} output bit for bit into these parameters, in place. */
  public void loadBytes(byte[] bytes) {
    setFlat(valuesOf(bytes, config.r(), modules));
  }

  /**
   * The values in {@link #toBytes} output of adapters with rank {@code r} over {@code modules}
   * (in the documented order), after checking that the bytes were written for exactly that
   * layout; checks bytes without building adapters (e.g. a checkpoint against a run's config).
   *
   * @throws IllegalArgumentException when the length or the layout differ
   */
  public static float[] valuesOf(byte[] bytes, int r, List<Module> modules) {
    byte[] expected;
    ByteArrayOutputStream layout = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(layout)) {
      writeLayout(out, r, modules);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    expected = layout.toByteArray();
    long floats = 0;
    for (Module m : modules) {
      floats += (long) r * (m.inFeatures() + m.outFeatures());
    }
    if (bytes.length != expected.length + floats * 4) {
      throw new IllegalArgumentException("LoRA bytes have " + bytes.length + " bytes; these "
          + "adapters (" + modules.size() + " modules, r=" + r + ") need "
          + (expected.length + floats * 4));
    }
    for (int i = 0; i < expected.length; i++) {
      if (bytes[i] != expected[i]) {
        throw new IllegalArgumentException("LoRA bytes were written for other adapters (the "
            + "magic, version, rank or module list differ from these, at byte " + i + ")");
      }
    }
    float[] v = new float[Math.toIntExact(floats)];
    try (DataInputStream in = new DataInputStream(
        new ByteArrayInputStream(bytes, expected.length, bytes.length - expected.length))) {
      for (int i = 0; i < v.length; i++) {
        v[i] = Float.intBitsToFloat(in.readInt());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return v;
  }

  private void writeLayout(DataOutputStream out) throws IOException {
    writeLayout(out, config.r(), modules);
  }

  private static void writeLayout(DataOutputStream out, int r, List<Module> modules)
      throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(VERSION);
    out.writeInt(r);
    out.writeInt(modules.size());
    for (Module m : modules) {
      out.writeUTF(m.name());
      out.writeLong(m.inFeatures());
      out.writeLong(m.outFeatures());
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
