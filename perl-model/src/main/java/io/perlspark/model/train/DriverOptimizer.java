package io.perlspark.model.train;

import io.perlspark.model.learn.AdamW;
import io.perlspark.model.learn.GradClip;
import io.perlspark.model.learn.LrSchedule;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * The driver's optimizer over flat parameter buffers: global-norm clipping, AdamW with a scheduled
 * learning rate, and a guard against non-finite gradients. Pure Java and single-threaded, so two
 * optimizers fed the same gradients produce bit-identical parameters.
 *
 * <p>Step accounting follows verl: the schedule advances on every {@link #step} call (a skipped
 * update still uses up its learning-rate slot), while AdamW's bias correction counts only the
 * updates actually applied.
 *
 * <p>Not thread-safe; the driver calls it from one thread.
 */
public final class DriverOptimizer {
  private static final int MAGIC = 0x44524f50; // "DROP"
  private static final int VERSION = 1;

  private final float[] params;
  private final AdamW adamW;
  private final LrSchedule schedule;
  private final Double maxGradNorm;
  private long steps;
  private long updates;
  private int skippedInARow;

  /** Consecutive non-finite gradients after which {@link #requireProgress} stops the run. */
  public static final int MAX_SKIPPED_IN_A_ROW = 10;

  /**
   * @param initialParams the starting parameters (copied), in the model's flat layout
   * @param adamW the optimizer (its state is taken over as is; normally fresh)
   * @param schedule learning rate per step
   * @param maxGradNorm the global-norm clip, or {@code null} for no clipping (the norm is still
   *     measured and a non-finite one still skips the step)
   */
  public DriverOptimizer(
      float[] initialParams, AdamW adamW, LrSchedule schedule, Double maxGradNorm) {
    Objects.requireNonNull(initialParams, "initialParams");
    this.adamW = Objects.requireNonNull(adamW, "adamW");
    this.schedule = Objects.requireNonNull(schedule, "schedule");
    if (maxGradNorm != null && !(maxGradNorm > 0)) {
      throw new IllegalArgumentException(
          "maxGradNorm must be > 0 (or null for no clipping), got " + maxGradNorm);
    }
    int stateSize = adamW.state().size();
    if (stateSize != 0 && stateSize != initialParams.length) {
      throw new IllegalArgumentException(
          "the AdamW state has " + stateSize + " values but there are " + initialParams.length
              + " parameters");
    }
    this.params = initialParams.clone();
    this.maxGradNorm = maxGradNorm;
    this.updates = adamW.state().t();
  }

  /**
   * Clips {@code summedGradient} in place (when a clip is set), then applies one AdamW update with
   * {@code schedule.lr(step)}; on a non-finite gradient norm only the step counter advances.
   *
   * @param summedGradient the mini-batch gradient (the sum of all parts), same layout as the
   *     parameters; scaled in place by the clip
   */
  public StepReport step(float[] summedGradient) {
    Objects.requireNonNull(summedGradient, "summedGradient");
    if (summedGradient.length != params.length) {
      throw new IllegalArgumentException(
          "gradient has " + summedGradient.length + " values but there are " + params.length
              + " parameters");
    }
    long index = steps;
    double lr = schedule.lr(index);
    double norm =
        maxGradNorm == null
            ? GradClip.globalNorm(summedGradient)
            : GradClip.clipByGlobalNorm(summedGradient, maxGradNorm);
    steps++;
    if (!Double.isFinite(norm)) {
      skippedInARow++;
      return new StepReport(index, lr, norm, false, true, updates);
    }
    skippedInARow = 0;
    // GradClip scales by maxNorm / (norm + 1e-6) when that is below 1.
    boolean clipped = maxGradNorm != null && maxGradNorm / (norm + 1e-6) < 1.0;
    adamW.step(params, summedGradient, lr);
    updates++;
    return new StepReport(index, lr, norm, clipped, false, updates);
  }

  /**
   * Stops a run whose gradients stay non-finite: a skipped step is harmless once, but a run that
   * skips every step trains nothing and would otherwise finish "successfully".
   */
  public void requireProgress() {
    if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
      throw new IllegalStateException("the gradient was non-finite (NaN or inf) in the last " + skippedInARow
          + " steps in a row (up to step " + steps + "), so no update was applied; lower trainer.lr / the SFT lr, or"
          + " check the data for broken rows");
    }
  }

  /** Non-finite gradients in a row (0 after any applied update). */
  public int skippedInARow() {
    return skippedInARow;
  }

  /** A copy of the current parameters. */
  public float[] params() {
    return params.clone();
  }

  /** Number of parameters. */
  public int size() {
    return params.length;
  }

  /** {@link #step} calls so far (the index of the next step). */
  public long steps() {
    return steps;
  }

  /** AdamW updates applied so far (steps minus skipped ones). */
  public long updates() {
    return updates;
  }

  /** The learning rate the next step will use. */
  public double nextLr() {
    return schedule.lr(steps);
  }

  public LrSchedule schedule() {
    return schedule;
  }

  /** The clip norm, or null when there is none. */
  public Double maxGradNorm() {
    return maxGradNorm;
  }

  /**
   * The optimizer state for a checkpoint: the step counter and AdamW's moments and update count
   * (versioned, big-endian). The parameters are not included: the model checkpoint holds them.
   */
  public byte[] exportState() {
    AdamW.State state = adamW.state();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 8 * state.size() + 32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeLong(steps);
      out.writeInt(params.length);
      state.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Restores what {@link #exportState} wrote (of an optimizer over as many parameters). With the
   * same parameters (e.g. loaded from the model checkpoint, see {@link #setParams}) the
   * continuation is bit-identical to the run that exported it.
   *
   * @throws IllegalArgumentException on foreign, corrupt or mismatched bytes; the optimizer is then
   *     unchanged
   */
  public void importState(byte[] state) {
    Objects.requireNonNull(state, "state");
    long importedSteps;
    AdamW.State adam;
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException(
            "not a DriverOptimizer state (bad magic 0x" + Integer.toHexString(magic) + ")");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IllegalArgumentException(
            "unsupported DriverOptimizer state version " + version + " (supported: " + VERSION + ")");
      }
      importedSteps = in.readLong();
      int size = in.readInt();
      if (size != params.length) {
        throw new IllegalArgumentException(
            "the state is for " + size + " parameters but this optimizer has " + params.length);
      }
      adam = AdamW.State.readFrom(in);
      if (in.read() != -1) {
        throw new IllegalArgumentException("DriverOptimizer state has unexpected trailing bytes");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated or corrupt DriverOptimizer state", e);
    }
    if (importedSteps < 0 || adam.t() > importedSteps) {
      throw new IllegalArgumentException(
          "corrupt DriverOptimizer state: " + importedSteps + " steps but " + adam.t() + " updates");
    }
    if (adam.size() != 0 && adam.size() != params.length) {
      throw new IllegalArgumentException(
          "the AdamW state has " + adam.size() + " values but there are " + params.length
              + " parameters");
    }
    adamW.loadState(adam);
    steps = importedSteps;
    updates = adam.t();
  }

  /** Overwrites the parameters (e.g. from a model checkpoint); the optimizer state is kept. */
  public void setParams(float[] values) {
    Objects.requireNonNull(values, "values");
    if (values.length != params.length) {
      throw new IllegalArgumentException(
          "got " + values.length + " values but there are " + params.length + " parameters");
    }
    System.arraycopy(values, 0, params, 0, params.length);
  }

  /**
   * Restores the state a checkpoint holds: the parameters, AdamW's moments and update count, and
   * the step counter (which drives the learning-rate schedule). The continuation is then
   * bit-identical to the run that wrote the checkpoint.
   */
  public void restore(float[] values, AdamW.State state, long stepCount) {
    Objects.requireNonNull(state, "state");
    if (stepCount < state.t()) {
      throw new IllegalArgumentException("corrupt optimizer state: " + stepCount + " steps but " + state.t() + " updates");
    }
    if (state.size() != 0 && state.size() != params.length) {
      throw new IllegalArgumentException(
          "the AdamW state has " + state.size() + " values but there are " + params.length + " parameters");
    }
    setParams(values);
    adamW.loadState(state);
    steps = stepCount;
    updates = state.t();
  }
}
