package io.perlspark.model.learn;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves a fixed, caller-given list of DJL parameters to and from one flat float[] (values or
 * gradients), in list order and each array in row-major order. This is the currency between the
 * model (NDArrays) and the pure-Java optimizer, gradient aggregation and broadcast.
 *
 * <p>Note: in DJL's PyTorch engine gradients <em>accumulate</em> over backward calls, also across
 * gradient collectors; call {@link #zeroGradients} before each micro-batch whose gradient you want
 * on its own.
 */
public final class FlatParameters {
  private FlatParameters() {}

  /** The parameters of a block that require gradients, in the block's (deterministic) order. */
  public static List<Parameter> trainable(Block block) {
    List<Parameter> out = new ArrayList<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      if (p.getValue().requiresGradient()) {
        out.add(p.getValue());
      }
    }
    return out;
  }

  /** Total number of scalar values in the parameters. */
  public static int size(List<Parameter> params) {
    long total = 0;
    for (Parameter p : params) {
      total += array(p).size();
    }
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "parameters hold " + total + " values, more than a Java float[] can (about 2^31)");
    }
    return (int) total;
  }

  /** Copies the parameter values into a new flat array. */
  public static float[] values(List<Parameter> params) {
    float[] out = new float[size(params)];
    int offset = 0;
    for (Parameter p : params) {
      offset = copyOut(array(p), out, offset);
    }
    return out;
  }

  /** Overwrites the parameter values, in place, from a flat array of exactly {@link #size} values. */
  public static void setValues(List<Parameter> params, float[] flat) {
    int expected = size(params);
    if (flat.length != expected) {
      throw new IllegalArgumentException(
          "flat parameter array has " + flat.length + " values, the parameters need " + expected);
    }
    int offset = 0;
    for (Parameter p : params) {
      NDArray a = array(p);
      int n = Math.toIntExact(a.size());
      float[] slice = new float[n];
      System.arraycopy(flat, offset, slice, 0, n);
      offset += n;
      fill(a, slice);
    }
  }

  /** Writes values into an existing array in place (the gradient-tracking leaf stays the same). */
  private static void fill(NDArray a, float[] values) {
    DataType dt = a.getDataType();
    if (dt == DataType.FLOAT32) {
      a.set(values);
    } else if (dt == DataType.FLOAT64) {
      double[] d = new double[values.length];
      for (int i = 0; i < d.length; i++) {
        d[i] = values[i];
      }
      a.set(d);
    } else {
      try (NDArray tmp = a.getManager().create(values, a.getShape());
          NDArray converted = tmp.toType(dt, true)) {
        converted.copyTo(a);
      }
    }
  }

  /**
   * Copies the accumulated gradients into a new flat array. A trainable parameter that took no part
   * in the backward pass contributes zeros.
   *
   * @throws IllegalStateException if a parameter does not require gradients
   */
  public static float[] gradients(List<Parameter> params) {
    float[] out = new float[size(params)];
    int offset = 0;
    for (Parameter p : params) {
      NDArray a = array(p);
      if (!a.hasGradient()) {
        throw new IllegalStateException(
            "parameter '" + p.getName() + "' does not require gradients; pass trainable parameters only");
      }
      NDArray grad = gradientOrNull(a);
      if (grad == null) {
        offset += Math.toIntExact(a.size());
        continue;
      }
      try (grad) {
        offset = copyOut(grad, out, offset);
      }
    }
    return out;
  }

  /** Sets the accumulated gradients of the parameters to zero. */
  public static void zeroGradients(List<Parameter> params) {
    for (Parameter p : params) {
      NDArray a = array(p);
      if (!a.hasGradient()) {
        continue;
      }
      NDArray grad = gradientOrNull(a);
      if (grad != null) {
        grad.close();
        // PyTorch zeroes its own gradient tensor in place (NaN and inf included). Not set(Buffer) on
        // the gradient handle: on CPU that makes the tensor use a Java buffer owned by that
        // short-lived handle, which the GC later frees under the tensor (heap corruption).
        JniUtils.zeroGrad((PtNDArray) a);
      }
    }
  }

  private static NDArray gradientOrNull(NDArray a) {
    try {
      return a.getGradient();
    } catch (IllegalStateException e) {
      // PyTorch has no gradient tensor until a backward pass reached this parameter.
      return null;
    }
  }

  private static int copyOut(NDArray a, float[] out, int offset) {
    float[] v;
    if (a.getDataType() == DataType.FLOAT32) {
      v = a.toFloatArray();
    } else {
      try (NDArray f = a.toType(DataType.FLOAT32, true)) {
        v = f.toFloatArray();
      }
    }
    System.arraycopy(v, 0, out, offset, v.length);
    return offset + v.length;
  }

  private static NDArray array(Parameter p) {
    if (!p.isInitialized()) {
      throw new IllegalStateException("parameter '" + p.getName() + "' is not initialised");
    }
    return p.getArray();
  }
}
