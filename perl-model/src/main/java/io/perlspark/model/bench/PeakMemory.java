package io.perlspark.model.bench;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The peak memory of a benchmark phase, sampled every {@link #PERIOD_MS} ms on a daemon thread:
 * on a GPU the device memory in use (cudaMemGetInfo through DJL's {@link CudaUtils}: everything on
 * the device, including PyTorch's caching-allocator reserve and other processes), on the CPU this
 * process's resident set (VmRSS). Sampling can miss a spike shorter than the period.
 */
final class PeakMemory implements AutoCloseable {
  static final long PERIOD_MS = 20;

  private final Device device;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile long peak;
  private final long before;

  private PeakMemory(Device device) {
    this.device = device;
    this.before = read(device);
    this.peak = before;
    this.thread = new Thread(() -> {
      while (running) {
        peak = Math.max(peak, read(device));
        try {
          Thread.sleep(PERIOD_MS);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-peak-memory");
    thread.setDaemon(true);
    thread.start();
  }

  static PeakMemory start(Device device) {
    return new PeakMemory(device);
  }

  /** What is measured, for the JSON lines. */
  static String kind(Device device) {
    return device.isGpu() ? "gpu_used_cudaMemGetInfo" : "process_rss";
  }

  long before() {
    return before;
  }

  /** The largest sample so far, including one taken now. */
  long peak() {
    peak = Math.max(peak, read(device));
    return peak;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }

  static long read(Device device) {
    if (device.isGpu()) {
      return CudaUtils.getGpuMemory(device).getUsed();
    }
    return residentSetBytes();
  }

  /** VmRSS of /proc/self/status in bytes; -1 where there is no /proc (not Linux). */
  static long residentSetBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024L;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
