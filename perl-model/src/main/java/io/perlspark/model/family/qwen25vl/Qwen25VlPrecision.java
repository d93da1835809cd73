package io.perlspark.model.family.qwen25vl;

import ai.djl.ndarray.types.DataType;
import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.policy.Bfloat16Support;

/**
 * {@code model.dtype} for Qwen2.5-VL: which types a model may run in, and whether this JVM's engine
 * can run them.
 *
 * <p>What runs in which type (as transformers, verl and PEFT do): weights, activations, matmuls,
 * rotary tables of the decoder and the KV cache in the model's type; RMSNorm normalises in float32
 * and casts back before the weight; attention softmax and the vision rotary run in float32; the
 * logits are cast to float32 before temperature, log-softmax and sampling, so log-probs,
 * entropies, the loss and the gradients that leave the model are float32. LoRA adapters (and so
 * their gradients and AdamW state) are float32: the adapted module's input is cast to float32, the
 * update is added to the widened base output and the sum cast back (PEFT's Linear.forward).
 */
public final class Qwen25VlPrecision {
  private Qwen25VlPrecision() {}

  /** The DJL type of a {@code model.dtype} name. */
  public static DataType of(String dtype) {
    return switch (dtype) {
      case ModelConfig.FLOAT32 -> DataType.FLOAT32;
      case ModelConfig.BFLOAT16 -> DataType.BFLOAT16;
      case ModelConfig.FLOAT16 -> DataType.FLOAT16;
      default -> throw new IllegalArgumentException("dtype " + dtype + " is not one of "
          + String.join(" | ", ModelConfig.DTYPES));
    };
  }

  /**
   * Stops unless this JVM's engine can run {@code dtype}: float32 and float16 always (upstream
   * DJL maps float16); bfloat16 only with a JNI that maps it ({@link Bfloat16Support}, probed in a
   * child JVM once per JVM), before any weight is converted.
   *
   * @throws ConfigException on {@code model.dtype}, saying how to get a JNI with bfloat16
   */
  public static void requireSupported(DataType dtype) {
    if (dtype == DataType.FLOAT32 || dtype == DataType.FLOAT16) {
      return;
    }
    if (dtype != DataType.BFLOAT16) {
      throw new IllegalArgumentException(dtype + " is not a model type (float32, bfloat16,"
          + " float16)");
    }
    Bfloat16Support.Result r = Bfloat16Support.probe();
    if (!r.supported()) {
      throw new ConfigException("model.dtype", "bfloat16 is not available on this JVM's PyTorch"
          + " engine (" + r.detail() + "): " + Bfloat16Support.HOW_TO_GET_IT
          + "; or run with model.dtype: float32 (or float16)");
    }
  }
}
