package io.perlspark.model.policy;

import ai.djl.Device;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;

/** Chooses the DJL device a model runs on. */
public final class Devices {
  private Devices() {}

  /**
   * The device for a config value.
   *
   * @param device {@code "cpu"}; {@code "gpu"} (the GPU Spark assigned, else GPU 0; fails when the
   *     engine sees no GPU); {@code "gpu:N"} (GPU N); {@code "auto"} (the GPU Spark assigned when
   *     there is one and the engine sees GPUs, else the CPU)
   * @param gpuIndexFromSpark the GPU address Spark assigned to the task, if any
   */
  public static Device choose(String device, OptionalInt gpuIndexFromSpark) {
    return choose(device, gpuIndexFromSpark, Engines.engine().getGpuCount());
  }

  /** As {@link #choose(String, OptionalInt)}, with the engine's GPU count given (for tests). */
  static Device choose(String device, OptionalInt gpuIndexFromSpark, int engineGpus) {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(gpuIndexFromSpark, "gpuIndexFromSpark");
    String d = device.trim().toLowerCase(Locale.ROOT);
    switch (d) {
      case "cpu":
        return Device.cpu();
      case "auto":
        if (gpuIndexFromSpark.isPresent() && engineGpus > 0) {
          return gpu(gpuIndexFromSpark.getAsInt(), engineGpus, device);
        }
        return Device.cpu();
      case "gpu":
      case "cuda":
        return gpu(gpuIndexFromSpark.orElse(0), engineGpus, device);
      default:
        if (d.startsWith("gpu:") || d.startsWith("cuda:")) {
          String n = d.substring(d.indexOf(':') + 1);
          try {
            return gpu(Integer.parseInt(n), engineGpus, device);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "device '" + device + "': '" + n + "' is not a GPU index", e);
          }
        }
        throw new IllegalArgumentException(
            "device '" + device + "' is not one of cpu, gpu, gpu:N, auto");
    }
  }

  private static Device gpu(int index, int engineGpus, String asked) {
    if (engineGpus <= 0) {
      throw new IllegalArgumentException(
          "device '"
              + asked
              + "' needs a GPU, but the PyTorch engine sees none (CPU-only natives, or no CUDA"
              + " device visible); use cpu or auto");
    }
    if (index < 0 || index >= engineGpus) {
      throw new IllegalArgumentException(
          "device '" + asked + "': GPU " + index + " does not exist; the engine sees " + engineGpus
              + " GPU(s)");
    }
    return Device.gpu(index);
  }
}
