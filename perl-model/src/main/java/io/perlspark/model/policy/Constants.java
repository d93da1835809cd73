package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;

/**
 * Scalar constants for differentiable arithmetic.
 *
 * <p>Why not {@code x.mul(0.5f)}: DJL's PyTorch engine turns the number into a tensor over a Java
 * direct buffer and closes it as soon as the op returns, while autograd keeps that tensor for the
 * backward pass (mul, div, minimum and maximum need their operand). Once the GC frees the buffer,
 * the backward pass reads freed memory: gradients of 1e17–1e38 with a normal loss, at random
 * steps. A constant from here owns PyTorch memory, so it lives exactly as long as autograd needs it.
 */
public final class Constants {
  private Constants() {}

  /** {@code value} as a 0-d tensor of {@code like}'s type, device and manager, in PyTorch-owned memory. */
  public static NDArray scalar(NDArray like, double value) {
    try (NDArray javaBacked = like.getManager().create(value)) {
      // copy = true: a conversion to the same type would otherwise return the Java-backed tensor itself.
      return javaBacked.toType(like.getDataType(), true);
    }
  }
}
