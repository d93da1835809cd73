package io.perlspark.jobs.rollout;

import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.policy.PolicyModel;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.spark.broadcast.Broadcast;

/**
 * The policies living in this JVM (one per role: the policy being trained, the frozen reference),
 * built once and reloaded only when the parameter version changes — so parameters are loaded once
 * per executor per version, not per task or per row. Tasks use a model under a read lock; a reload
 * takes the write lock, so no task ever sees half-written parameters.
 */
public final class ExecutorPolicies {
  private ExecutorPolicies() {}

  private static final Map<String, Slot> SLOTS = new HashMap<>();
  private static final Map<String, Long> LOADS = new HashMap<>();
  /** Models kept per JVM; beyond this, the least recently used idle ones are closed. */
  static final int MAX_SLOTS = 8;
  private static long clock;

  /** A role name unique to one job (a training run, an evaluator): its models are its own. */
  public static String newRole(String kind) {
    return kind + "-" + java.util.UUID.randomUUID();
  }

  private static final class Slot {
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    PolicyModel model;
    PromptProcessor prompts;
    PolicyRuntime runtime;
    String version;
    long lastUse;
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
    Slot slot;
    synchronized (SLOTS) {
      if (!SLOTS.containsKey(role)) {
        evictIdle();
      }
      slot = SLOTS.computeIfAbsent(role, r -> new Slot());
      slot.lastUse = ++clock;
    }
    slot.lock.readLock().lock();
    if (version.equals(slot.version) && runtime.equals(slot.runtime)) {
      return new Lease(slot);
    }
    slot.lock.readLock().unlock();
    slot.lock.writeLock().lock();
    try {
      if (slot.model == null || !runtime.equals(slot.runtime)) {
        if (slot.model != null) {
          close(slot.model);
        }
        slot.model = null; // a failed build must not leave the closed model in the slot
        slot.model = runtime.build();
        slot.prompts = runtime.promptProcessor(slot.model);
        slot.runtime = runtime;
        slot.version = null;
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

  /** Closes the least recently used models that no task holds, keeping at most MAX_SLOTS - 1. */
  private static void evictIdle() {
    while (SLOTS.size() >= MAX_SLOTS) {
      String oldest = null;
      for (Map.Entry<String, Slot> e : SLOTS.entrySet()) {
        if (oldest == null || e.getValue().lastUse < SLOTS.get(oldest).lastUse) {
          oldest = e.getKey();
        }
      }
      Slot s = SLOTS.get(oldest);
      if (!s.lock.writeLock().tryLock()) {
        return; // in use: keep it; the cache may exceed its bound for a while
      }
      try {
        if (s.model != null) {
          close(s.model);
        }
        SLOTS.remove(oldest);
      } finally {
        s.lock.writeLock().unlock();
      }
    }
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

  private static void countLoad(String role) {
    String kind = role.substring(role.lastIndexOf('/') + 1);
    synchronized (LOADS) {
      LOADS.merge(kind, 1L, Long::sum);
    }
  }
}
