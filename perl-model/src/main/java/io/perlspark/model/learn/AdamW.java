package io.perlspark.model.learn;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;

/**
 * AdamW over flat float[] buffers, with PyTorch's {@code torch.optim.AdamW} semantics
 * (amsgrad=false, maximize=false): for step t = 1, 2, …
 *
 * <pre>
 *   p ← p − lr·λ·p                       (decoupled weight decay)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 *
 * Pure Java and single-threaded, so it is deterministic; each element is computed in double and
 * stored as float (the state m and v is float, as in PyTorch for float32 parameters).
 */
public final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private State state;

  /**
   * Optimizer state: first and second moments and the number of steps taken.
   *
   * @param m first moment, one per parameter value
   * @param v second moment, one per parameter value
   * @param t steps taken so far
   */
  public record State(float[] m, float[] v, long t) implements Serializable {
    private static final int MAGIC = 0x41444d57; // "ADMW"
    private static final int VERSION = 1;

    public State {
      if (m == null || v == null || m.length != v.length) {
        throw new IllegalArgumentException("AdamW state needs m and v of equal length");
      }
      if (t < 0) {
        throw new IllegalArgumentException("AdamW step count must be >= 0, got " + t);
      }
    }

    /** Fresh state for {@code size} parameters. */
    public static State zeros(int size) {
      return new State(new float[size], new float[size], 0);
    }

    public int size() {
      return m.length;
    }

    public State copy() {
      return new State(m.clone(), v.clone(), t);
    }

    /** Writes a versioned binary form (big-endian). */
    public void writeTo(DataOutputStream out) throws IOException {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeLong(t);
      out.writeInt(m.length);
      for (float x : m) {
        out.writeFloat(x);
      }
      for (float x : v) {
        out.writeFloat(x);
      }
    }

    /** Reads what {@link #writeTo} wrote. */
    public static State readFrom(DataInputStream in) throws IOException {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IOException("not an AdamW state (bad magic 0x" + Integer.toHexString(magic) + ")");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IOException("unsupported AdamW state version " + version + " (supported: " + VERSION + ")");
      }
      long t = in.readLong();
      int n = in.readInt();
      if (n < 0) {
        throw new IOException("corrupt AdamW state: negative size " + n);
      }
      float[] m = new float[n];
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        m[i] = in.readFloat();
      }
      for (int i = 0; i < n; i++) {
        v[i] = in.readFloat();
      }
      return new State(m, v, t);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof State s && t == s.t && Arrays.equals(m, s.m) && Arrays.equals(v, s.v);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * Arrays.hashCode(m) + Arrays.hashCode(v)) + Long.hashCode(t);
    }

    @Override
    public String toString() {
      return "AdamW.State[size=" + m.length + ", t=" + t + "]";
    }
  }

  /** PyTorch's defaults except the weight decay: β = (0.9, 0.999), ε = 1e-8. */
  public AdamW(double weightDecay) {
    this(0.9, 0.999, 1e-8, weightDecay);
  }

  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
    }
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("eps must be a finite value > 0, got " + eps);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("weightDecay must be a finite value >= 0, got " + weightDecay);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /**
   * One update of {@code params} in place. The state is created on the first call with the size of
   * {@code params}.
   *
   * @throws IllegalArgumentException if sizes differ, lr is not finite or negative, or a gradient is
   *     not finite (the parameters are then left unchanged)
   */
  public void step(float[] params, float[] grad, double lr) {
    if (params.length != grad.length) {
      throw new IllegalArgumentException(
          "params has " + params.length + " values but grad has " + grad.length);
    }
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("lr must be a finite value >= 0, got " + lr);
    }
    for (int i = 0; i < grad.length; i++) {
      if (!Float.isFinite(grad[i])) {
        throw new IllegalArgumentException(
            "gradient " + i + " is " + grad[i] + "; skip the step instead (see GradClip)");
      }
    }
    if (state == null) {
      state = State.zeros(params.length);
    } else if (state.size() != params.length) {
      throw new IllegalArgumentException(
          "optimizer state has " + state.size() + " values but params has " + params.length);
    }
    float[] m = state.m();
    float[] v = state.v();
    long t = state.t() + 1;
    double decay = 1 - lr * weightDecay;
    double bias1 = 1 - Math.pow(beta1, t);
    double sqrtBias2 = Math.sqrt(1 - Math.pow(beta2, t));
    double stepSize = lr / bias1;
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      double p = params[i] * decay;
      double mi = beta1 * m[i] + (1 - beta1) * g;
      double vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = (float) mi;
      v[i] = (float) vi;
      // The update reads the stored (float) moments, as PyTorch does, so a resumed run is identical.
      params[i] = (float) (p - stepSize * m[i] / (Math.sqrt(v[i]) / sqrtBias2 + eps));
    }
    state = new State(m, v, t);
  }

  /** A copy of the current state; a zero state of size 0 before the first step. */
  public State state() {
    return state == null ? State.zeros(0) : state.copy();
  }

  /** Replaces the state (e.g. from a checkpoint); a size-0 state means "not started". */
  public void loadState(State s) {
    state = s == null || s.size() == 0 ? null : s.copy();
  }

  public double beta1() {
    return beta1;
  }

  public double beta2() {
    return beta2;
  }

  public double eps() {
    return eps;
  }

  public double weightDecay() {
    return weightDecay;
  }
}
