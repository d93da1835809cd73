import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;

import com.sun.management.OperatingSystemMXBean;
import io.perlspark.common.data.ImageChecks;
import io.perlspark.common.data.ValidationLimits;
import io.perlspark.jobs.cli.PerlCli;
import io.perlspark.jobs.spark.SparkSessions;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Throughput of `perl prepare`, `perl permute -k 1` and a plain Parquet read + write of the same
 * input, in one JVM, interleaved, on one master. Run by bench/data-throughput.sh (single-file source
 * launch: `java -cp <app jar + Spark jars> bench/DataThroughput.java ...`).
 *
 * <p>Each measured run is the real subcommand: picocli's {@code execute} of the CLI classes, exactly
 * as {@code spark-submit ... PerlCli prepare ...} runs them, minus JVM start. The SparkSession is made
 * before the clock starts (the command's {@code getOrCreate} picks it up); the command's own
 * {@code session.stop()} is inside the clock, and so is the plain read + write's, so all three pay
 * the same fixed costs. A listener records each Spark stage to show where the time goes.
 *
 * <p>Args: INPUT_DIR WORK_DIR REPS MASTER. Writes a TSV of every run and a stage log to WORK_DIR.
 */
public final class DataThroughput {
  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** One stage as the listener saw it. */
  record Stage(int id, String name, int tasks, long millis, long runMillis, long cpuMillis, long inputBytes, long shuffleWrite,
      long shuffleRead, long outputBytes, long spilled) {}

  static final class Stages extends SparkListener {
    final List<Stage> stages = new ArrayList<>();

    @Override
    public synchronized void onStageCompleted(SparkListenerStageCompleted event) {
      StageInfo s = event.stageInfo();
      TaskMetrics m = s.taskMetrics();
      long start = s.submissionTime().isDefined() ? (Long) s.submissionTime().get() : 0;
      long end = s.completionTime().isDefined() ? (Long) s.completionTime().get() : start;
      stages.add(new Stage(s.stageId(), s.name(), s.numTasks(), end - start,
          m == null ? 0 : m.executorRunTime(),
          m == null ? 0 : (m.executorCpuTime() + m.executorDeserializeCpuTime()) / 1_000_000,
          m == null ? 0 : m.inputMetrics().bytesRead(),
          m == null ? 0 : m.shuffleWriteMetrics().bytesWritten(),
          m == null ? 0 : m.shuffleReadMetrics().totalBytesRead(),
          m == null ? 0 : m.outputMetrics().bytesWritten(),
          m == null ? 0 : m.memoryBytesSpilled() + m.diskBytesSpilled()));
    }
  }

  record Run(String op, int rep, double seconds, double cpuSeconds, double taskCpuSeconds, double gcSeconds,
      double jitSeconds, long inputRows, long inputBytes, long outputBytes, int stages, long tasks, long shuffleBytes,
      double load1Before, double load1After) {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: DataThroughput INPUT_DIR WORK_DIR REPS MASTER");
      System.exit(2);
    }
    Path input = Path.of(args[0]).toAbsolutePath();
    Path work = Path.of(args[1]).toAbsolutePath();
    int reps = Integer.parseInt(args[2]);
    String master = args[3];
    Files.createDirectories(work);

    long inputBytes = parquetBytes(input);
    long inputRows;
    SparkSession probe = SparkSessions.create("bench probe", master);
    try {
      inputRows = probe.read().parquet(input.toString()).count();
      System.out.printf(Locale.ROOT, "input: %s: %,d rows, %,d bytes of Parquet in %d files, %d read partitions%n",
          input, inputRows, inputBytes, countParquet(input),
          probe.read().parquet(input.toString()).rdd().getNumPartitions());
    } finally {
      probe.stop();
    }

    List<Run> runs = new ArrayList<>();
    try (PrintStream stageLog = new PrintStream(Files.newOutputStream(work.resolve("stages.log")), true)) {
      // Rep 0 warms the JIT and class loading for each op; it is reported separately, not in the medians.
      for (int rep = 0; rep <= reps; rep++) {
        for (String op : List.of("parquet-copy", "prepare", "permute-k1")) {
          Path out = work.resolve(op + "-" + rep);
          Run r = measure(op, rep, master, input, out, inputRows, inputBytes, stageLog);
          runs.add(r);
          System.out.printf(Locale.ROOT, "%-12s rep %d  %6.2f s wall  %6.2f s cpu (tasks %.2f, gc %.2f, jit %.2f)  "
                  + "%6.0f rows/s  %5.1f MB/s  (out %,d bytes, %d stages, %d tasks, shuffle %,d bytes, load %.2f -> %.2f)%n",
              op, rep, r.seconds(), r.cpuSeconds(), r.taskCpuSeconds(), r.gcSeconds(), r.jitSeconds(),
              inputRows / r.seconds(), inputBytes / 1e6 / r.seconds(), r.outputBytes(), r.stages(), r.tasks(), r.shuffleBytes(), r.load1Before(), r.load1After());
          deleteTree(out);
        }
      }
    }

    imageCheckCost(input, master);

    Path tsv = work.resolve("runs.tsv");
    List<String> lines = new ArrayList<>();
    lines.add("op\trep\tseconds\tcpu_seconds\ttask_cpu_seconds\tgc_seconds\tjit_seconds\tinput_rows\tinput_bytes\toutput_bytes\tstages\ttasks\tshuffle_bytes\tload1_before\tload1_after");
    for (Run r : runs) {
      lines.add(String.format(Locale.ROOT, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f",
          r.op(), r.rep(), r.seconds(), r.cpuSeconds(), r.taskCpuSeconds(), r.gcSeconds(), r.jitSeconds(), r.inputRows(), r.inputBytes(), r.outputBytes(), r.stages(), r.tasks(),
          r.shuffleBytes(), r.load1Before(), r.load1After()));
    }
    Files.write(tsv, lines);

    System.out.printf(Locale.ROOT, "%nmedian of reps 1..%d (rep 0 = warm-up), input %,d rows / %.1f MB:%n", reps,
        inputRows, inputBytes / 1e6);
    System.out.printf(Locale.ROOT, "%-12s %8s %15s %8s %15s %9s %8s %9s%n", "op", "wall s", "(min-max)", "cpu s",
        "(min-max)", "rows/s", "MB/s", "warm-up s");
    for (String op : List.of("parquet-copy", "prepare", "permute-k1")) {
      double[] wall = runs.stream().filter(r -> r.op().equals(op) && r.rep() > 0).mapToDouble(Run::seconds).sorted().toArray();
      double[] cpu = runs.stream().filter(r -> r.op().equals(op) && r.rep() > 0).mapToDouble(Run::cpuSeconds).sorted().toArray();
      double warm = runs.stream().filter(r -> r.op().equals(op) && r.rep() == 0).mapToDouble(Run::seconds).findFirst().orElse(Double.NaN);
      double med = median(wall);
      System.out.printf(Locale.ROOT, "%-12s %8.2f %15s %8.2f %15s %9.0f %8.2f %9.2f%n", op, med,
          String.format(Locale.ROOT, "(%.2f-%.2f)", wall[0], wall[wall.length - 1]), median(cpu),
          String.format(Locale.ROOT, "(%.2f-%.2f)", cpu[0], cpu[cpu.length - 1]), inputRows / med, inputBytes / 1e6 / med,
          warm);
    }
    System.out.println("runs: " + tsv + "   stages: " + work.resolve("stages.log"));
  }

  static Run measure(String op, int rep, String master, Path input, Path out, long inputRows, long inputBytes,
      PrintStream stageLog) throws IOException {
    SparkSession spark = SparkSessions.create("bench " + op, master);
    Stages listener = new Stages();
    spark.sparkContext().addSparkListener(listener);
    double load0 = load1();
    long cpu0 = OS.getProcessCpuTime();
    long gc0 = gcMillis();
    long jit0 = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    long t0 = System.nanoTime();
    int code;
    switch (op) {
      case "parquet-copy" -> {
        try {
          spark.read().parquet(input.toString()).write().parquet(out.toString());
        } finally {
          spark.stop();
        }
        code = 0;
      }
      case "prepare" -> {
        try {
          code = quietly(() -> PerlCli.commandLine().execute("prepare", "-i", input.toString(), "-o",
              out.toString(), "--master", master));
        } finally {
          // prepare leaves a session it did not create running; stopping stays inside the clock as before.
          spark.stop();
        }
      }
      case "permute-k1" -> code = quietly(() -> PerlCli.commandLine().execute("permute", "-i", input.toString(), "-o",
          out.toString(), "-k", "1", "--master", master));
      default -> throw new IllegalArgumentException(op);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (OS.getProcessCpuTime() - cpu0) / 1e9;
    double gcSeconds = (gcMillis() - gc0) / 1e3;
    double jitSeconds = (ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0) / 1e3;
    double load1 = load1();
    if (code != 0) {
      throw new IllegalStateException(op + " exited with code " + code);
    }
    List<Stage> stages;
    synchronized (listener) {
      stages = new ArrayList<>(listener.stages);
    }
    stages.sort(Comparator.comparingInt(Stage::id));
    stageLog.printf(Locale.ROOT, "== %s rep %d: %.2f s wall, %.2f s cpu, gc %.2f s, jit %.2f s%n", op, rep, seconds,
        cpuSeconds, gcSeconds, jitSeconds);
    stageLog.printf("%5s %6s %9s %10s %10s %12s %12s %12s %12s %10s  %s%n", "stage", "tasks", "wall ms", "task ms",
        "task cpu", "input B", "shuf.write B", "shuf.read B", "output B", "spill B", "name");
    for (Stage s : stages) {
      stageLog.printf(Locale.ROOT, "%5d %6d %9d %10d %10d %,12d %,12d %,12d %,12d %,10d  %s%n", s.id(), s.tasks(), s.millis(),
          s.runMillis(), s.cpuMillis(), s.inputBytes(), s.shuffleWrite(), s.shuffleRead(), s.outputBytes(), s.spilled(), s.name());
    }
    double taskCpu = stages.stream().mapToLong(Stage::cpuMillis).sum() / 1e3;
    return new Run(op, rep, seconds, cpuSeconds, taskCpu, gcSeconds, jitSeconds, inputRows, inputBytes, parquetBytes(out.resolve(
            op.equals("parquet-copy") ? "" : "data")) + (op.equals("prepare") ? parquetBytes(out.resolve("rejects")) : 0),
        stages.size(), stages.stream().mapToLong(Stage::tasks).sum(),
        stages.stream().mapToLong(Stage::shuffleWrite).sum(), load0, load1);
  }

  /**
   * The image check prepare runs on every image (ImageChecks.check: header, size limits, full
   * decode), timed alone on one driver thread by thread CPU time, so other load on the machine does
   * not inflate it.
   */
  static void imageCheckCost(Path input, String master) {
    SparkSession spark = SparkSessions.create("bench image checks", master);
    try {
      ValidationLimits limits = ValidationLimits.defaults();
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long images = 0;
      long bytes = 0;
      long cpuNanos = 0;
      Iterator<Row> it = spark.read().parquet(input.toString())
          .select(explode(col("images")).as("img")).select(col("img.bytes")).toLocalIterator();
      while (it.hasNext()) {
        byte[] b = (byte[]) it.next().get(0);
        long c0 = threads.getCurrentThreadCpuTime();
        if (ImageChecks.check(b, limits).isPresent()) {
          throw new IllegalStateException("a synthetic image failed its check");
        }
        cpuNanos += threads.getCurrentThreadCpuTime() - c0;
        images++;
        bytes += b.length;
      }
      System.out.printf(Locale.ROOT, "image checks alone: %,d images (%,d bytes, %.0f bytes each): %.2f s cpu on one "
          + "thread = %.1f us per image%n", images, bytes, (double) bytes / images, cpuNanos / 1e9, cpuNanos / 1e3 / images);
    } finally {
      spark.stop();
    }
  }

  /** Runs a CLI command with its stdout (tables, "wrote ...") kept out of the benchmark's output. */
  static int quietly(java.util.function.IntSupplier command) {
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(PrintStream.nullOutputStream()));
    try {
      return command.getAsInt();
    } finally {
      System.setOut(stdout);
    }
  }

  /** GC time of all collectors (for G1 mostly pause time; concurrent marking threads are not in it). */
  static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> Math.max(0, g.getCollectionTime())).sum();
  }

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static double load1() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  static long parquetBytes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static long countParquet(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).count();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
