package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import io.perlspark.model.policy.Casts;
import io.perlspark.model.policy.Constants;

/**
 * The small tensor operations of Qwen2.5-VL, written as transformers writes them: in the model's
 * dtype, with RMSNorm and the attention softmax in float32 (as Qwen2RMSNorm and eager attention
 * do), so a float32 model runs exactly the float32 ops it always ran. The
 * activation is always the first operand, so results attach to the activation's manager, never
 * to the manager owning the parameters; scalar operands come from {@link Constants#scalar}.
 */
final class Qwen25VlOps {
  private Qwen25VlOps() {}

  /**
   * What a linear module's output becomes: LoRA adds its update to the modules it adapts ({@code
   * LoraAdapters.apply}), otherwise the base output passes through unchanged.
   */
  @FunctionalInterface
  interface Adapter {
    /** No adapters: every module is its base linear layer. */
    Adapter NONE = (module, x, base) -> base;

    /**
     * @param module the Hub module name (no {@code .weight}), e.g. {@code model.layers.0.mlp.up_proj}
     * @param x the module's input
     * @param base {@code x W^T + b}
     */
    NDArray adapt(String module, NDArray x, NDArray base);
  }

  /** {@code x W^T + b} (b may be null). */
  static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }

  /** Rows of a table by index (differentiable in the table); the result joins idx's manager. */
  static NDArray rows(NDArray idx, NDArray table) {
    return idx.getNDArrayInternal().embedding(idx, table, SparseFormat.DENSE).singletonOrThrow();
  }

  /**
   * Qwen2 RMSNorm: {@code w * x / sqrt(mean(x^2) + eps)}, normalised in float32 and cast back to
   * x's type before the weight, as Qwen2RMSNorm does ({@code weight * hidden.to(input_dtype)}).
   */
  static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
    DataType type = x.getDataType();
    NDArray x32 = as(x, DataType.FLOAT32);
    NDArray variance = x32.mul(x32).mean(new int[] {-1}, true);
    return as(x32.div(variance.add(Constants.scalar(variance, eps)).sqrt()), type).mul(weight);
  }

  /**
   * Attention weights {@code softmax(scores + bias)} computed in float32 and returned in the
   * scores' type, as transformers' eager attention ({@code softmax(..., dtype=float32)
   * .to(query.dtype)}). The bias (float32, may be null) is added in float32: its large negative
   * mask value would overflow float16.
   */
  static NDArray attentionWeights(NDArray scores, NDArray bias) {
    DataType type = scores.getDataType();
    NDArray s = as(scores, DataType.FLOAT32);
    if (bias != null) {
      s = s.add(bias);
    }
    return as(s.softmax(-1), type);
  }

  /**
   * x converted to {@code type}, or x itself when it already has it; differentiable ({@link
   * Casts#to}: DJL's own toType detaches). Only for arrays in PyTorch memory.
   */
  static NDArray as(NDArray x, DataType type) {
    return Casts.to(x, type);
  }

  /** SiLU, {@code x * sigmoid(x)}. */
  static NDArray silu(NDArray x) {
    return x.mul(Activation.sigmoid(x));
  }

  /** GELU with the exact erf (PyTorch's default, as {@code nn.GELU()} in the merger). */
  static NDArray gelu(NDArray x) {
    return Activation.gelu(x);
  }

  /** {@code x * cos + rotate_half(x) * sin}; rotate_half(x) = cat(-x2, x1) over the last axis. */
  static NDArray rotary(NDArray x, NDArray cos, NDArray sin) {
    int last = x.getShape().dimension() - 1;
    NDList halves = x.split(2, last);
    NDArray rotated = halves.get(1).neg().concat(halves.get(0), last);
    return x.mul(cos).add(rotated.mul(sin));
  }

  /** {@code [B, kv, T, d]} to {@code [B, kv * groups, T, d]}, head h reading kv head h / groups. */
  static NDArray repeatKv(NDArray x, int groups) {
    if (groups == 1) {
      return x;
    }
    long[] s = x.getShape().getShape();
    return x.expandDims(2).broadcast(new Shape(s[0], s[1], groups, s[2], s[3]))
        .reshape(s[0], s[1] * groups, s[2], s[3]);
  }

  /**
   * A float32 array in PyTorch-owned memory: autograd may keep an operand of mul for backward,
   * so it must not live on a Java buffer that the GC can free (see {@link Constants}).
   */
  static NDArray owned(NDManager m, float[] data, Shape shape) {
    try (NDArray javaBacked = m.create(data, shape)) {
      // duplicate() clones into PyTorch memory. Not toType(FLOAT32, true): DJL's torchTo has no
      // copy flag, so a same-type conversion returns a tensor ALIASING the Java buffer, which the
      // GC frees once javaBacked is closed (garbage cos/sin, masks and pixels under GC pressure).
      return javaBacked.duplicate();
    }
  }

  static long[] toLongs(int[] v) {
    long[] out = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }
}
