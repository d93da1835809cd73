package io.perlspark.model.policy;

import io.perlspark.common.config.ConfigException;
import java.util.Map;

/**
 * {@code model.tf32}: TF32 tensor cores for float32 matmuls on CUDA.
 *
 * <p>DJL 0.36 has no call for {@code torch.backends.cuda.matmul.allow_tf32} or {@code
 * torch.set_float32_matmul_precision} (its JNI exposes grad mode, thread counts, cuDNN benchmark
 * and the graph optimizer only). libtorch has one switch it reads by itself: the environment
 * variable {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1}, read once when the first cuBLAS matmul asks
 * whether TF32 is allowed ({@code at::Context::allowTF32CuBLAS}). A JVM cannot set its own
 * environment, so the variable must be set for the driver and every executor before they start;
 * this check makes a run that asked for TF32 stop where it would otherwise silently run full
 * float32. The other way round is not refused: NVIDIA's containers set the variable, which turns
 * TF32 on whatever {@code model.tf32} says.
 */
public final class Tf32 {
  /** libtorch's environment switch for TF32 in cuBLAS matmuls. */
  public static final String ENV = "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE";

  private Tf32() {}

  /** Whether this JVM's environment turns TF32 on for float32 cuBLAS matmuls. */
  public static boolean enabledByEnvironment(Map<String, String> env) {
    // c10's check_env takes "1" as true and "0" as false (other values are ignored, with a warning)
    return "1".equals(env.get(ENV));
  }

  /**
   * Stops when {@code model.tf32} is true and this JVM cannot honour it.
   *
   * @throws ConfigException on {@code model.tf32}, saying what to set
   */
  public static void require(boolean tf32, Map<String, String> env) {
    if (tf32 && !enabledByEnvironment(env)) {
      throw new ConfigException("model.tf32", "true needs " + ENV + "=1 in the environment of"
          + " every JVM that runs the model (DJL has no call for TF32; libtorch reads this"
          + " variable): export it before perl / spark-submit, and set spark.executorEnv." + ENV
          + "=1 for executors (deploy/README.md), or set model.tf32: false");
    }
  }
}
