import com.sun.management.OperatingSystemMXBean;
import io.perlspark.jobs.spark.LeanRdds;
import io.perlspark.jobs.spark.SparkSessions;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The fixed cost of one small Spark job, through Spark's Java API and through {@link LeanRdds}: the
 * same 2-partition job (a per-partition function, then collect) JOBS times, interleaved in ROUNDS
 * rounds. Per job: wall time from the call to its result, time from the call to the first task's
 * function body, and the JVM's CPU time (all threads). Run by bench/spark-job-latency.sh.
 *
 * <p>Args: ROUNDS JOBS MASTER.
 */
public class SparkJobLatency {
  /** When the first task of the current job entered its function (same JVM in local mode). */
  static final AtomicLong firstTaskNanos = new AtomicLong();

  public static void main(String[] args) {
    int rounds = Integer.parseInt(args[0]);
    int jobs = Integer.parseInt(args[1]);
    String master = args[2];
    SparkSession spark = SparkSessions.create("spark-job-latency", master);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    JavaRDD<Integer> numbers = jsc.parallelize(List.of(1, 2, 3, 4), 2);
    System.out.println("round\tapi\tjobs\twall_ms_per_job\tto_first_task_ms\tcpu_ms_per_job");
    for (int round = 0; round <= rounds; round++) { // round 0 warms up
      for (String api : new String[] {"JavaRDD", "LeanRdds"}) {
        long cpu0 = os.getProcessCpuTime();
        long wall = 0;
        long toTask = 0;
        for (int i = 0; i < jobs; i++) {
          firstTaskNanos.set(0);
          long t0 = System.nanoTime();
          List<Integer> out = api.equals("JavaRDD")
              ? numbers.mapPartitionsWithIndex((p, rows) -> touch(rows), false).collect()
              : LeanRdds.collect(LeanRdds.mapPartitions(numbers, (p, rows) -> touch(rows)));
          long t1 = System.nanoTime();
          if (out.size() != 4) {
            throw new IllegalStateException("expected 4 rows, got " + out);
          }
          wall += t1 - t0;
          toTask += firstTaskNanos.get() - t0;
        }
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e6 / jobs;
        if (round > 0) {
          System.out.printf(Locale.ROOT, "%d\t%s\t%d\t%.2f\t%.2f\t%.2f%n", round, api, jobs, wall / 1e6 / jobs,
              toTask / 1e6 / jobs, cpu);
        }
      }
    }
    spark.stop();
  }

  private static java.util.Iterator<Integer> touch(java.util.Iterator<Integer> rows) {
    firstTaskNanos.compareAndSet(0, System.nanoTime());
    List<Integer> out = new ArrayList<>();
    rows.forEachRemaining(out::add);
    return out.iterator();
  }
}
