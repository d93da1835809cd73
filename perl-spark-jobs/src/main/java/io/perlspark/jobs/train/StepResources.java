package io.perlspark.jobs.train;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The broadcasts and cached Datasets and RDDs of one step, released together when the step ends, however it
 * ends: a sweep runs many cells in one Spark application, and a failed cell must not leave its
 * parameters and rollouts in the executors' memory.
 */
final class StepResources implements AutoCloseable {
  private final JavaSparkContext jsc;
  private final List<Broadcast<?>> broadcasts = new ArrayList<>();
  private final List<Dataset<Row>> cached = new ArrayList<>();
  private final List<JavaRDD<?>> cachedRdds = new ArrayList<>();

  StepResources(JavaSparkContext jsc) {
    this.jsc = jsc;
  }

  /** Broadcasts {@code value} until {@link #release} or the end of the step. */
  <T> Broadcast<T> broadcast(T value) {
    Broadcast<T> b = jsc.broadcast(value);
    broadcasts.add(b);
    return b;
  }

  /** Persists {@code rows} (memory only) until the end of the step. */
  Dataset<Row> cache(Dataset<Row> rows) {
    Dataset<Row> persisted = rows.persist(StorageLevel.MEMORY_ONLY());
    cached.add(persisted);
    return persisted;
  }

  /** Persists {@code rows} (memory only, as objects: nothing to encode or decode) until the end of the step. */
  <T> JavaRDD<T> cache(JavaRDD<T> rows) {
    JavaRDD<T> persisted = rows.persist(StorageLevel.MEMORY_ONLY());
    cachedRdds.add(persisted);
    return persisted;
  }

  /** Releases a broadcast before the step ends (a mini-batch's parameters, once its update is done). */
  void release(Broadcast<?> b) {
    if (broadcasts.remove(b)) {
      b.destroy();
    }
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (Broadcast<?> b : broadcasts) {
      try {
        b.destroy();
      } catch (RuntimeException e) {
        failure = addTo(failure, e);
      }
    }
    for (Dataset<Row> d : cached) {
      try {
        d.unpersist();
      } catch (RuntimeException e) {
        failure = addTo(failure, e);
      }
    }
    for (JavaRDD<?> r : cachedRdds) {
      try {
        r.unpersist(false);
      } catch (RuntimeException e) {
        failure = addTo(failure, e);
      }
    }
    broadcasts.clear();
    cached.clear();
    cachedRdds.clear();
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException addTo(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}
