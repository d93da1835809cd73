package io.perlspark.jobs.executor;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyModel;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executors' model cache: the models living in this JVM, one per role (the policy being
 * trained, the frozen reference, an evaluator's), built once and reloaded only when the parameter
 * version changes — so parameters are loaded once per executor per version, not per task or per
 * row. Tasks use a model under a read lock; a reload takes the write lock, so no task ever sees
 * half-written parameters.
 *
 * <p><b>Shared bases.</b> For a runtime that trains adapters on a frozen base ({@code
 * ModelRecipe.trainsLora()}), the base is built ONCE per equal {@link PolicyRuntime} and JVM — for
 * every role and every job on it (a run's policy and KL reference, a sweep's cells, an evaluator)
 * — and each role holds an adapter view of it ({@link PolicyModel#newAdapterView()}) with its own
 * adapters and version. Full-parameter runtimes keep one whole model per role. Ownership: the
 * cache owns each base; a base is closed only by eviction, and only while no role holds a view of
 * it; a view is closed only under its role's write lock, so never under a task's lease (the model
 * family's own reference count would keep the base alive anyway).
 *
 * <p><b>Memory bound.</b> Models are accounted by {@link PolicyModel#nativeBytes()} per device
 * against {@value #MAX_BYTES_KEY} (bytes, or a size such as {@code 24g}; default: half the
 * physical memory for CPU models, 70% of a GPU's memory for models on it — chosen, not measured,
 * to leave room for activations and Spark). Before a model is built and after it is, least
 * recently used idle models (no lease held; bases with no view) are closed until it fits. A model
 * larger than the whole budget is still loaded, with a WARN: one model must always be possible.
 *
 * <p>Lock order: this class's monitor is held only briefly and never while waiting for a role's
 * lock (eviction only tries them); a task may hold its policy lease while taking its reference
 * lease (roles are always taken in that order); a base's build lock is taken last.
 */
public final class ExecutorModelCache {
  private ExecutorModelCache() {}

  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModelCache.class);

  /** Spark conf key of the cache's budget, per device, in bytes (Spark's size syntax). */
  public static final String MAX_BYTES_KEY = "spark.perl.modelCache.maxBytes";
  static final double CPU_MEMORY_FRACTION = 0.5;
  static final double GPU_MEMORY_FRACTION = 0.7;

  private static final Object LOCK = new Object();
  private static final Map<String, Slot> SLOTS = new HashMap<>();
  private static final Map<PolicyRuntime, HostedBase> BASES = new HashMap<>();
  private static final Map<String, Long> LOADS = new HashMap<>();
  private static final Map<PolicyRuntime, Long> BUILDS = new HashMap<>();
  private static final Map<PolicyRuntime, Long> EVICTIONS = new HashMap<>();
  private static long clock;

  /** A role name unique to one job (a training run, an evaluator): its models are its own. */
  public static String newRole(String kind) {
    return kind + "-" + java.util.UUID.randomUUID();
  }

  /** One role's model: its own (full-parameter) or an adapter view of a {@link HostedBase}. */
  private static final class Slot {
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    PolicyModel model;
    PromptProcessor prompts;
    PolicyRuntime runtime;
    /** The base {@link #model} is a view of, or null for a model of its own. */
    HostedBase base;
    String version;
    /** Guarded by LOCK, as are the rest below. */
    long lastUse;
    long bytes;
    Device device;
    /** Removed from the cache: a task that found this slot before must look again. */
    boolean evicted;
    /** Whether the over-budget WARN was given for the model being installed. */
    boolean warned;
  }

  /** A base model the cache owns; roles use it only through adapter views. */
  private static final class HostedBase {
    final PolicyRuntime runtime;
    /** Built under this object's monitor; read elsewhere only while {@link #views} > 0. */
    PolicyModel host;
    PromptProcessor prompts;
    /** Guarded by LOCK, as are the rest below: the roles holding a view (or building one). */
    int views;
    long lastUse;
    long bytes;
    Device device;

    HostedBase(PolicyRuntime runtime) {
      this.runtime = runtime;
    }
  }

  /** A model in use by one task; close it to release the read lock. */
  public static final class Lease implements AutoCloseable {
    private final Slot slot;

    private Lease(Slot slot) {
      this.slot = slot;
    }

    public PolicyModel model() {
      return slot.model;
    }

    /** The model family's prompt processor for this model. */
    public PromptProcessor prompts() {
      return slot.prompts;
    }

    @Override
    public void close() {
      slot.lock.readLock().unlock();
    }
  }

  /**
   * The model of {@code role} with the parameters of {@code version} (read from {@code params} only
   * when this JVM holds another version).
   */
  public static Lease lease(String role, PolicyRuntime runtime, String version, Broadcast<byte[]> params) {
    while (true) {
      Slot slot;
      synchronized (LOCK) {
        slot = SLOTS.computeIfAbsent(role, r -> new Slot());
        touch(slot);
      }
      slot.lock.readLock().lock();
      if (slot.evicted) {
        slot.lock.readLock().unlock();
        continue; // evicted between the lookup and the lock: look again
      }
      if (slot.model != null && version.equals(slot.version) && runtime.equals(slot.runtime)) {
        return new Lease(slot);
      }
      slot.lock.readLock().unlock();
      slot.lock.writeLock().lock();
      try {
        if (slot.evicted) {
          continue;
        }
        if (slot.model == null || !runtime.equals(slot.runtime)) {
          release(slot);
          install(slot, runtime);
        }
        if (!version.equals(slot.version)) {
          slot.model.loadParameters(params.value());
          slot.version = version;
          countLoad(role);
        }
        slot.lock.readLock().lock(); // downgrade: still held when the write lock is released
      } finally {
        slot.lock.writeLock().unlock();
      }
      return new Lease(slot);
    }
  }

  private static void touch(Slot slot) {
    slot.lastUse = ++clock;
    if (slot.base != null) {
      slot.base.lastUse = clock;
    }
  }

  /** Builds the role's model (its write lock held): a view of the shared base, or its own. */
  private static void install(Slot slot, PolicyRuntime runtime) {
    PolicyModel model;
    PromptProcessor prompts;
    HostedBase base = null;
    if (runtime.recipe().trainsLora()) {
      base = retainBase(runtime);
      try {
        synchronized (base) {
          if (base.host == null) {
            slot.warned = false;
            makeRoom(estimatedBytes(runtime), runtime.targetDevice(), slot);
            PolicyModel host = build(runtime);
            try {
              base.prompts = runtime.promptProcessor(host);
            } catch (RuntimeException | Error e) {
              close(host);
              throw e;
            }
            base.host = host;
            synchronized (LOCK) {
              base.bytes = host.nativeBytes();
              base.device = host.device();
            }
          }
        }
        model = base.host.newAdapterView().orElseThrow(() -> new IllegalStateException("model family "
            + runtime.family() + " trains adapters but its model gives no adapter view"));
        prompts = base.prompts;
      } catch (RuntimeException | Error e) {
        releaseBase(base);
        throw e;
      }
    } else {
      slot.warned = false;
      makeRoom(estimatedBytes(runtime), runtime.targetDevice(), slot);
      model = build(runtime);
      try {
        prompts = runtime.promptProcessor(model);
      } catch (RuntimeException | Error e) {
        close(model);
        throw e;
      }
    }
    slot.model = model;
    slot.prompts = prompts;
    slot.base = base;
    slot.runtime = runtime;
    slot.version = null;
    synchronized (LOCK) {
      slot.bytes = model.nativeBytes();
      slot.device = model.device();
      touch(slot);
    }
    // now with the measured size; the estimate before building may have been unknown or low
    makeRoom(0, slot.device, slot);
  }

  private static PolicyModel build(PolicyRuntime runtime) {
    PolicyModel model = runtime.build();
    synchronized (LOCK) {
      BUILDS.merge(runtime, 1L, Long::sum);
    }
    return model;
  }

  /** The base's size as its recipe tells it before loading (float32), or 0 when unknown. */
  private static long estimatedBytes(PolicyRuntime runtime) {
    long params = runtime.recipe().baseParameterCount();
    return params > 0 ? params * Float.BYTES : 0;
  }

  private static HostedBase retainBase(PolicyRuntime runtime) {
    synchronized (LOCK) {
      HostedBase base = BASES.computeIfAbsent(runtime, HostedBase::new);
      base.views++;
      base.lastUse = ++clock;
      return base;
    }
  }

  private static void releaseBase(HostedBase base) {
    synchronized (LOCK) {
      base.views--; // at 0 the base is idle: eviction may close it
    }
  }

  /** Closes the role's model (its write lock held) and lets go of its base. */
  private static void release(Slot slot) {
    if (slot.model == null) {
      return;
    }
    PolicyModel model = slot.model;
    HostedBase base = slot.base;
    slot.model = null; // a failed build must not leave the closed model in the slot
    slot.base = null;
    slot.version = null;
    synchronized (LOCK) {
      slot.bytes = 0;
    }
    try {
      if (base != null) {
        model.close(); // a view: its adapters; the tokenizer is the base's
      } else {
        close(model);
      }
    } finally {
      if (base != null) {
        releaseBase(base);
      }
    }
  }

  /**
   * Closes least recently used idle models on {@code device} until {@code incoming} more bytes fit
   * the budget (never {@code keep}, which its caller holds); WARNs when they cannot.
   */
  private static void makeRoom(long incoming, Device device, Slot keep) {
    synchronized (LOCK) {
      long budget = budget(device);
      long used = usedBytes(device);
      if (used + incoming <= budget) {
        return;
      }
      record Candidate(long lastUse, Slot slot, HostedBase base) {}
      List<Candidate> idle = new ArrayList<>();
      SLOTS.values().forEach(s -> {
        if (s != keep && device.equals(s.device)) {
          idle.add(new Candidate(s.lastUse, s, null));
        }
      });
      BASES.values().forEach(b -> {
        if (b.views == 0 && b.host != null && device.equals(b.device)) {
          idle.add(new Candidate(b.lastUse, null, b));
        }
      });
      idle.sort(Comparator.comparingLong(Candidate::lastUse));
      for (Candidate c : idle) {
        if (used + incoming <= budget) {
          break;
        }
        if (c.slot() != null) {
          used -= evict(c.slot());
        } else if (c.base().views == 0) {
          used -= evict(c.base());
        }
        // a view evicted above may have left its base idle: it is a candidate of the next call
      }
      if (used + incoming > budget) {
        for (HostedBase b : new ArrayList<>(BASES.values())) {
          if (used + incoming <= budget) {
            break;
          }
          if (b.views == 0 && b.host != null && device.equals(b.device)) {
            used -= evict(b);
          }
        }
      }
      long kept = keep == null ? 0 : keep.bytes; // a view: its adapters (its base warned when built)
      if (incoming > budget || (incoming == 0 && kept > budget && !keep.warned)) {
        if (keep != null) {
          keep.warned = true; // once per model, not again after the measured size
        }
        LOG.warn("a model of {} bytes exceeds the model cache's whole budget of {} bytes on {} ({});"
            + " loading it anyway", Math.max(incoming, kept), budget, device, MAX_BYTES_KEY);
      } else if (incoming > 0 && used + incoming > budget) {
        LOG.warn("the model cache holds {} bytes on {} in models that tasks are using; with {} more"
            + " it exceeds its budget of {} bytes ({}) until they finish", used, device, incoming, budget,
            MAX_BYTES_KEY);
      }
    }
  }

  /** Closes an idle role's model (LOCK held); returns the bytes freed, 0 when a task holds it. */
  private static long evict(Slot s) {
    if (!s.lock.writeLock().tryLock()) {
      return 0; // in use: keep it
    }
    try {
      long freed = s.bytes;
      PolicyRuntime runtime = s.runtime;
      release(s);
      s.evicted = true;
      SLOTS.values().remove(s);
      if (runtime != null) {
        EVICTIONS.merge(runtime, 1L, Long::sum);
      }
      return freed;
    } finally {
      s.lock.writeLock().unlock();
    }
  }

  /** Closes a base no role holds a view of (LOCK held); returns the bytes freed. */
  private static long evict(HostedBase b) {
    BASES.remove(b.runtime);
    long freed = b.bytes;
    PolicyModel host = b.host;
    b.host = null;
    b.bytes = 0;
    close(host);
    EVICTIONS.merge(b.runtime, 1L, Long::sum);
    return freed;
  }

  private static long usedBytes(Device device) {
    long used = 0;
    for (Slot s : SLOTS.values()) {
      if (device.equals(s.device)) {
        used += s.bytes;
      }
    }
    for (HostedBase b : BASES.values()) {
      if (device.equals(b.device)) {
        used += b.bytes;
      }
    }
    return used;
  }

  /**
   * The cache's budget for models on {@code device}: {@value #MAX_BYTES_KEY} from this JVM's Spark
   * conf when set, else a share of the device's memory (see the class comment).
   *
   * @throws IllegalArgumentException naming the key when its value is not a size
   */
  static long budget(Device device) {
    SparkEnv env = SparkEnv.get();
    if (env != null && env.conf().contains(MAX_BYTES_KEY)) {
      SparkConf conf = env.conf();
      try {
        long bytes = conf.getSizeAsBytes(MAX_BYTES_KEY);
        if (bytes >= 0) {
          return bytes;
        }
      } catch (RuntimeException e) {
        // reported below with the key
      }
      throw new IllegalArgumentException(MAX_BYTES_KEY + "=" + conf.get(MAX_BYTES_KEY)
          + " is not a size in bytes (e.g. 24g or 25769803776)");
    }
    return defaultBudget(device);
  }

  static long defaultBudget(Device device) {
    if (device.isGpu()) {
      try {
        MemoryUsage gpu = CudaUtils.getGpuMemory(device);
        if (gpu.getMax() > 0) {
          return (long) (gpu.getMax() * GPU_MEMORY_FRACTION);
        }
      } catch (RuntimeException | LinkageError e) {
        // DJL cannot read this GPU's memory: fall back to the host's
      }
    }
    long physical = ((com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    return (long) (physical * CPU_MEMORY_FRACTION);
  }

  /** Closes a model and the tokenizer {@link PolicyRuntime#build()} opened for it (native memory). */
  private static void close(PolicyModel model) {
    try {
      model.close();
    } finally {
      model.tokenizer().close();
    }
  }

  /**
   * How many parameter loads this JVM did for roles of a kind (the part after the last '/', e.g.
   * "policy"), over its lifetime (for tests and metrics).
   */
  public static long loads(String kind) {
    synchronized (LOADS) {
      return LOADS.getOrDefault(kind, 0L);
    }
  }

  /**
   * How many models this JVM built for a runtime over its lifetime: whole models for a
   * full-parameter runtime (one per role), bases for an adapter runtime (one for all its roles,
   * again only after an eviction). For tests and metrics.
   */
  public static long builds(PolicyRuntime runtime) {
    synchronized (LOCK) {
      return BUILDS.getOrDefault(runtime, 0L);
    }
  }

  /** How many models (roles' and bases) of a runtime this JVM's cache evicted (tests, metrics). */
  public static long evictions(PolicyRuntime runtime) {
    synchronized (LOCK) {
      return EVICTIONS.getOrDefault(runtime, 0L);
    }
  }

  /** Native bytes the cache holds on a device (roles' models and bases), for tests and metrics. */
  public static long cachedBytes(Device device) {
    synchronized (LOCK) {
      return usedBytes(device);
    }
  }

  private static void countLoad(String role) {
    String kind = role.substring(role.lastIndexOf('/') + 1);
    synchronized (LOADS) {
      LOADS.merge(kind, 1L, Long::sum);
    }
  }
}
