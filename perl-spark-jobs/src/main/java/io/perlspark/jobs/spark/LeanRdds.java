package io.perlspark.jobs.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import org.apache.spark.Partition;
import org.apache.spark.Partitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;

/**
 * Per-partition transforms and collecting jobs without Spark's closure cleaner, for the jobs a
 * training step runs many times. {@code JavaRDD.mapPartitions}, {@code filter}, {@code flatMap} and
 * {@code collect} wrap the function in a Scala lambda, and {@code SparkContext.clean} then reads and
 * parses, with ASM, the bytecode of the class that declared that lambda ({@code JavaRDD}, {@code
 * JavaRDDLike}, {@code RDD}, {@code SparkContext}: 64-205 KB each), on every call, on the driver,
 * between two jobs. A trivial job on {@code local[2]} took 7.2-9.4 ms that way and 3.0-4.8 ms through
 * this class (docs/BENCHMARKS.md, bench/spark-job-latency.sh). The functions here are handed to a
 * named RDD and a named job function, which the cleaner returns from at once; they must be
 * serialisable on their own (a lambda that captures only serialisable locals), as for Spark's own
 * operations, but a function that is not fails when its job is submitted rather than when it is
 * declared. Exceptions from a function reach Spark unchanged, as from a {@code JavaRDD} function.
 *
 * <p>Collecting jobs keep a readable call site (the Spark UI's stage names, a listener's): "collect
 * at RolloutRounds.java:157", as Spark's own operations show. The RDDs themselves are created here,
 * so their creation site (the UI's storage tab, {@code toDebugString}) names this class.
 */
public final class LeanRdds {
  private LeanRdds() {}

  /** A partition's rows in, the partition's output out; {@code partition} is the partition's index. */
  @FunctionalInterface
  public interface PartitionFunction<T, U> extends Serializable {
    Iterator<U> apply(int partition, Iterator<T> rows) throws Exception;
  }

  /** A row's outputs. */
  @FunctionalInterface
  public interface RowFunction<T, U> extends Serializable {
    Iterator<U> apply(T row) throws Exception;
  }

  /** Whether a row stays. */
  @FunctionalInterface
  public interface RowPredicate<T> extends Serializable {
    boolean test(T row) throws Exception;
  }

  /** {@code f} over each partition of {@code rdd}: one task per partition, the same partitions. */
  public static <T, U> JavaRDD<U> mapPartitions(JavaRDD<T> rdd, PartitionFunction<T, U> f) {
    return new PartitionsRDD<>(rdd.rdd(), f, false).toJavaRDD();
  }

  /** Each row's outputs, in row order. */
  public static <T, U> JavaRDD<U> flatMap(JavaRDD<T> rdd, RowFunction<T, U> f) {
    return mapPartitions(rdd, new FlatMapRows<>(f));
  }

  /** The rows {@code keep} accepts, in the same partitions and order (the partitioner is kept). */
  public static <T> JavaRDD<T> filter(JavaRDD<T> rdd, RowPredicate<T> keep) {
    return new PartitionsRDD<>(rdd.rdd(), new FilterRows<>(keep), true).toJavaRDD();
  }

  /** Every row of {@code rdd}, in partition order: one job. */
  public static <T> List<T> collect(JavaRDD<T> rdd) {
    int[] all = new int[rdd.getNumPartitions()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    List<T> out = new ArrayList<>();
    for (List<T> p : run(rdd, all, "collect")) {
      out.addAll(p);
    }
    return out;
  }

  /**
   * The rows of the listed partitions, one list per listed partition in the order given: one job of
   * one task per listed partition, started in that order.
   */
  public static <T> List<List<T>> collectPartitions(JavaRDD<T> rdd, int[] partitions) {
    return run(rdd, partitions, "collectPartitions");
  }

  @SuppressWarnings("unchecked")
  private static <T> List<List<T>> run(JavaRDD<T> rdd, int[] partitions, String what) {
    List<Object> indices = new ArrayList<>(partitions.length);
    for (int p : partitions) {
      indices.add(p);
    }
    SparkContext sc = rdd.context();
    ClassTag<ArrayList<T>> tag = (ClassTag<ArrayList<T>>) (ClassTag<?>) ClassTag$.MODULE$.apply(ArrayList.class);
    Object results = withCallSite(sc, what, () -> sc.runJob(rdd.rdd(), new ToList<T>(),
        CollectionConverters.asScala(indices).toSeq(), tag));
    List<List<T>> out = new ArrayList<>(partitions.length);
    for (Object p : (Object[]) results) {
      out.add((List<T>) p);
    }
    return out;
  }

  /** Spark's {@code CallSite.SHORT_FORM}: the local property a job's stage names come from. */
  private static final String CALL_SITE_SHORT = "callSite.short";

  /** Runs {@code job} with the short call site "{@code what} at File.java:line" of the first frame outside this class. */
  private static <R> R withCallSite(SparkContext sc, String what, Supplier<R> job) {
    String outer = sc.getLocalProperty(CALL_SITE_SHORT);
    if (outer != null) {
      return job.get(); // the caller named the job
    }
    StackTraceElement caller = StackWalker.getInstance().walk(frames -> frames
        .filter(f -> !f.getClassName().equals(LeanRdds.class.getName()))
        .findFirst().map(StackWalker.StackFrame::toStackTraceElement).orElse(null));
    sc.setLocalProperty(CALL_SITE_SHORT,
        caller == null ? what : what + " at " + caller.getFileName() + ":" + caller.getLineNumber());
    try {
      return job.get();
    } finally {
      sc.setLocalProperty(CALL_SITE_SHORT, null);
    }
  }

  /** Throws {@code t} as it is, checked or not (Spark's Java API lets a function's exception through unchanged). */
  @SuppressWarnings("unchecked")
  private static <E extends Throwable> RuntimeException rethrow(Throwable t) throws E {
    throw (E) t;
  }

  /** One partition through a {@link PartitionFunction}. */
  static final class PartitionsRDD<T, U> extends RDD<U> {
    private static final long serialVersionUID = 1L;
    private final PartitionFunction<T, U> f;
    /** Fixed at creation, as Spark's own MapPartitionsRDD does (a checkpoint replaces the parent). */
    private final Option<Partitioner> partitioner;

    @SuppressWarnings("unchecked")
    PartitionsRDD(RDD<T> parent, PartitionFunction<T, U> f, boolean keepsPartitioner) {
      super(parent, (ClassTag<U>) ClassTag$.MODULE$.AnyRef());
      this.f = f;
      this.partitioner = keepsPartitioner ? parent.partitioner() : Option.empty();
    }

    @Override
    @SuppressWarnings("unchecked")
    public scala.collection.Iterator<U> compute(Partition split, TaskContext context) {
      RDD<T> parent = (RDD<T>) firstParent(ClassTag$.MODULE$.AnyRef());
      Iterator<T> rows = CollectionConverters.asJava(parent.iterator(split, context));
      try {
        return CollectionConverters.asScala(f.apply(split.index(), rows));
      } catch (Exception e) {
        throw LeanRdds.<RuntimeException>rethrow(e);
      }
    }

    @Override
    public Partition[] getPartitions() {
      return firstParent(ClassTag$.MODULE$.AnyRef()).partitions();
    }

    @Override
    public Option<Partitioner> partitioner() {
      return partitioner;
    }
  }

  /** A partition's rows into a list: the job function of {@link #collectPartitions}. */
  static final class ToList<T> extends AbstractFunction2<TaskContext, scala.collection.Iterator<T>, ArrayList<T>>
      implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public ArrayList<T> apply(TaskContext context, scala.collection.Iterator<T> rows) {
      ArrayList<T> out = new ArrayList<>();
      while (rows.hasNext()) {
        out.add(rows.next());
      }
      return out;
    }
  }

  private record FlatMapRows<T, U>(RowFunction<T, U> f) implements PartitionFunction<T, U> {
    @Override
    public Iterator<U> apply(int partition, Iterator<T> rows) {
      return new Iterator<>() {
        private Iterator<U> current = Collections.emptyIterator();

        @Override
        public boolean hasNext() {
          while (!current.hasNext() && rows.hasNext()) {
            try {
              current = f.apply(rows.next());
            } catch (Exception e) {
              throw LeanRdds.<RuntimeException>rethrow(e);
            }
          }
          return current.hasNext();
        }

        @Override
        public U next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return current.next();
        }
      };
    }
  }

  private record FilterRows<T>(RowPredicate<T> keep) implements PartitionFunction<T, T> {
    @Override
    public Iterator<T> apply(int partition, Iterator<T> rows) {
      return new Iterator<>() {
        private T next;
        private boolean ready;

        @Override
        public boolean hasNext() {
          while (!ready && rows.hasNext()) {
            T r = rows.next();
            try {
              ready = keep.test(r);
            } catch (Exception e) {
              throw LeanRdds.<RuntimeException>rethrow(e);
            }
            if (ready) {
              next = r;
            }
          }
          return ready;
        }

        @Override
        public T next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          T r = next;
          ready = false;
          next = null;
          return r;
        }
      };
    }
  }
}
