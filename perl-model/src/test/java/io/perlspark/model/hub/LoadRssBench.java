package io.perlspark.model.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.hub.SafeTensorsWriter.Dtype;
import io.perlspark.model.hub.SafeTensorsWriter.Spec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Peak memory to load a Hugging Face checkpoint of N parameters into float32 NDArrays
 * ({@code bench/load-rss.sh}). Two commands, each meant for its own JVM:
 *
 * <pre>
 *   write DIR N [MAX_SHARD_BYTES]   synthetic BF16 checkpoint (2048 x 5632 matrices + a remainder)
 *   load DIR                        loads every tensor as float32 and keeps them all; prints one line
 * </pre>
 *
 * Peak RSS is the kernel's VmHWM (/proc/self/status), split at the end into anonymous memory and
 * mapped file pages; the Java heap figure is the sum of the heap pools' peak usage, an upper bound
 * of what the heap ever held.
 */
public final class LoadRssBench {
  private static final long ROWS = 2048;
  private static final long COLS = 5632;

  private LoadRssBench() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "write" -> write(Path.of(args[1]), Long.parseLong(args[2]),
          args.length > 3 ? Long.parseLong(args[3]) : ShardedSafeTensorsWriter.DEFAULT_MAX_SHARD_BYTES);
      case "load" -> load(Path.of(args[1]));
      default -> throw new IllegalArgumentException("write DIR N [MAX_SHARD] | load DIR");
    }
  }

  private static void write(Path dir, long params, long maxShard) throws IOException {
    List<Spec> specs = new ArrayList<>();
    long left = params;
    for (int i = 0; left > 0; i++) {
      long n = Math.min(left, ROWS * COLS);
      long[] shape = n == ROWS * COLS ? new long[] {ROWS, COLS} : new long[] {n};
      specs.add(new Spec("model.layers." + i + ".mlp.up_proj.weight", Dtype.BF16, shape));
      left -= n;
    }
    long t = System.nanoTime();
    ShardedSafeTensorsWriter.Result r = ShardedSafeTensorsWriter.write(dir, specs, maxShard,
        (spec, scratch) -> scratch.randomUniform(-0.05f, 0.05f, new Shape(spec.shape())));
    System.out.printf("wrote %,d params (%,d bytes) in %d file(s), %.1f s%n", params, r.totalSize(),
        r.files().size(), (System.nanoTime() - t) / 1e9);
  }

  private static void load(Path dir) throws IOException {
    long jvmHwm = status("VmHWM");
    long t0;
    long loaded = 0;
    long tensors = 0;
    long baseRss;
    try (NDManager m = NDManager.newBaseManager()) {
      m.zeros(new Shape(1)).close(); // libtorch loaded and initialised
      baseRss = status("VmRSS");
      t0 = System.nanoTime();
      List<NDArray> kept = new ArrayList<>();
      try (SafeTensorsFolder f = SafeTensorsFolder.open(dir)) {
        for (String name : f.names()) {
          NDArray a = f.loadFloat(name, m);
          kept.add(a); // all weights stay resident, as in a loaded model
          loaded += a.size();
          tensors++;
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      long hwm = status("VmHWM");
      long rss = status("VmRSS");
      long anon = status("RssAnon");
      long file = status("RssFile");
      long heapPeak = 0;
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        if (p.getType() == MemoryType.HEAP) {
          heapPeak += p.getPeakUsage().getUsed();
        }
      }
      long f32 = loaded * 4;
      System.out.printf("params %,d | tensors %d | float32 bytes %.0f MiB | load %.1f s | "
              + "RSS before load (JVM + libtorch) %.0f MiB | peak RSS (VmHWM) %.0f MiB | "
              + "peak - before %.0f MiB = %.2f bytes/param | RSS at end %.0f MiB (anon %.0f, file %.0f) | "
              + "heap peak (sum of pools) %.0f MiB of max %.0f MiB | JVM-only VmHWM at start %.0f MiB%n",
          loaded, tensors, mib(f32), seconds, mib(baseRss), mib(hwm), mib(hwm - baseRss),
          (hwm - baseRss) / (double) loaded, mib(rss), mib(anon), mib(file), mib(heapPeak),
          mib(Runtime.getRuntime().maxMemory()), mib(jvmHwm));
      kept.forEach(NDArray::close);
    }
  }

  private static double mib(long bytes) {
    return bytes / (double) (1 << 20);
  }

  /** A "kB" line of /proc/self/status, in bytes. */
  static long status(String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(key + ":")) {
        return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]) * 1024;
      }
    }
    throw new IOException("no " + key + " in /proc/self/status");
  }
}
