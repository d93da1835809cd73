package io.perlspark.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.perlspark.model.policy.Constants;
import io.perlspark.model.policy.Engines;
import java.util.Arrays;

/**
 * Folds an adapter into its base weight, for writing a merged Hub folder: {@code W' = W + scale *
 * (B A)}, in that order of operations as PEFT's {@code merge} does ({@code get_delta_weight}:
 * {@code (B @ A) * scaling}, added to the base weight). Then {@code x W'^T} equals {@link
 * LoraAdapters#apply}{@code (x, x W^T)} up to float rounding.
 */
public final class LoraMerge {
  private LoraMerge() {}

  /**
   * The merged weight of {@code module}, float32 {@code [out, in]}, in {@code manager}. {@code
   * base} is the module's {@code W [out, in]} (any floating type; not modified). Computed without
   * autograd.
   */
  public static NDArray merged(NDManager manager, NDArray base, LoraAdapters adapters,
      String module) {
    NDArray a = adapters.a(module);
    NDArray b = adapters.b(module);
    long[] expected = {b.getShape().get(0), a.getShape().get(1)};
    if (!Arrays.equals(base.getShape().getShape(), expected)) {
      throw new IllegalArgumentException("base weight of " + module + " has shape "
          + base.getShape() + "; its adapter needs " + Arrays.toString(expected));
    }
    try (Engines.NoGrad ignored = Engines.noGrad();
        NDManager tmp = manager.newSubManager()) {
      NDArray a32 = a.duplicate();
      NDArray b32 = b.duplicate();
      a32.attach(tmp);
      b32.attach(tmp);
      NDArray w = base.toType(DataType.FLOAT32, true);
      w.attach(tmp);
      NDArray delta = b32.matMul(a32);
      NDArray scaled = delta.mul(Constants.scalar(delta, adapters.scale()));
      NDArray out = w.add(scaled);
      out.attach(manager);
      return out;
    }
  }
}
