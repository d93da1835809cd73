package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Type conversion that autograd can see through.
 *
 * <p>DJL 0.36's {@code toType} runs its JNI call under {@code torch::NoGradGuard}: the result has
 * no history, so a float16 model whose activations pass through {@code toType} would give no (or
 * wrong) gradients to the float32 LoRA adapters. With autograd recording, the conversion is instead
 * a copy into a fresh array of the target type ({@code out[:] = x}: PyTorch's {@code copy_}, whose
 * backward converts the gradient back to x's type). Without recording, plain {@code toType}.
 */
public final class Casts {
  private Casts() {}

  /**
   * {@code x} in {@code type} (x itself when it has it), differentiable when autograd records;
   * the result joins x's manager. Not for 0-d arrays.
   */
  public static NDArray to(NDArray x, DataType type) {
    if (x.getDataType() == type) {
      return x;
    }
    if (!JniUtils.isGradMode()) {
      return x.toType(type, false);
    }
    NDArray out = x.getManager().zeros(x.getShape(), type);
    out.set(new NDIndex(":"), x);
    return out;
  }
}
