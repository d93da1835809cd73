package io.perlspark.jobs.rollout;

import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.TinyVlm;
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

  private static final class Slot {
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    TinyVlm model;
    PolicyRuntime runtime;
    String version;
    long loads;
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
      slot = SLOTS.computeIfAbsent(role, r -> new Slot());
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
          slot.model.close();
        }
        slot.model = runtime.build();
        slot.runtime = runtime;
        slot.version = null;
      }
      if (!version.equals(slot.version)) {
        slot.model.loadParameters(params.value());
        slot.version = version;
        slot.loads++;
      }
      slot.lock.readLock().lock(); // downgrade: still held when the write lock is released
    } finally {
      slot.lock.writeLock().unlock();
    }
    return new Lease(slot);
  }

  /** How many times {@code role}'s parameters were loaded in this JVM (for tests and metrics). */
  public static long loads(String role) {
    synchronized (SLOTS) {
      Slot s = SLOTS.get(role);
      return s == null ? 0 : s.loads;
    }
  }
}
