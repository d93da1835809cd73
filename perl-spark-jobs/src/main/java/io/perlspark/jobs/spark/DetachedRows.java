package io.perlspark.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * A Dataset's rows in the same partitions and order, behind one shuffle that leaves each row where
 * it was. Tasks that read a Dataset's rows carry (and deserialise) its physical plan, a Hadoop
 * configuration included (46 KB serialised for the demo's prompts; on the demo, deserialising a task
 * took 3.0-3.8 ms with it and 1.6-2.0 ms without), and convert cached column batches back to rows; behind the shuffle a task's lineage is a
 * few RDDs, and a cache of the result holds plain rows. Still recomputable as any RDD: a lost
 * partition re-runs the shuffle's map side from the Dataset.
 */
public final class DetachedRows {
  private DetachedRows() {}

  public static JavaRDD<Row> of(Dataset<Row> rows) {
    JavaRDD<Row> source = rows.javaRDD();
    int partitions = source.getNumPartitions();
    StructType schema = rows.schema();
    JavaRDD<Tuple2<Long, RowValues>> keyed = source.mapPartitionsWithIndex((p, it) -> {
      List<Tuple2<Long, RowValues>> out = new ArrayList<>();
      long position = (long) p << 32;
      while (it.hasNext()) {
        Row r = it.next();
        Object[] values = new Object[r.length()];
        for (int i = 0; i < values.length; i++) {
          values[i] = r.get(i);
        }
        out.add(new Tuple2<>(position++, new RowValues(values)));
      }
      return out.iterator();
    }, true);
    return JavaPairRDD.fromJavaRDD(keyed)
        .repartitionAndSortWithinPartitions(new SamePartition(partitions))
        .map(t -> (Row) new GenericRowWithSchema(t._2().values(), schema));
  }

  /** A row's values without its schema: one schema per task, not one per shuffled row. */
  public record RowValues(Object[] values) implements java.io.Serializable {}

  /** Sends a row keyed by (partition &lt;&lt; 32 | position) back to its partition. */
  static final class SamePartition extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    SamePartition(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (int) ((Long) key >>> 32);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SamePartition s && s.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }
}
