package io.perlspark.jobs.train;

import static org.apache.spark.sql.functions.col;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.StageConfig;
import io.perlspark.jobs.cli.PerlUserException;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.permute.PermutationTransform;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * A stage's prompts: its data sources (canonical Parquet, as written by {@code perl synth} or
 * {@code perl prepare}) cached once for the stage, and each source's ids for the cursor.
 */
final class StageData implements AutoCloseable {
  private final Dataset<Row> all;
  private final List<List<String>> ids;
  private final double[] weights;

  private StageData(Dataset<Row> all, List<List<String>> ids, double[] weights) {
    this.all = all;
    this.ids = ids;
    this.weights = weights;
  }

  /** Names every stage data path that does not exist (checked before any Spark work). */
  static List<String> missing(List<StageConfig> stages, Configuration conf) {
    List<String> problems = new ArrayList<>();
    for (int s = 0; s < stages.size(); s++) {
      List<DataSource> data = stages.get(s).data();
      for (int d = 0; d < data.size(); d++) {
        if (DataPaths.resolve(data.get(d).path(), conf) == null) {
          problems.add("stages[" + s + "].data[" + d + "].path: " + data.get(d).path() + " does not exist");
        }
      }
    }
    return problems;
  }

  static StageData load(SparkSession spark, StageConfig stage, int partitions) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Dataset<Row> all = null;
    List<List<String>> ids = new ArrayList<>();
    double[] weights = new double[stage.data().size()];
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < stage.data().size(); i++) {
      DataSource d = stage.data().get(i);
      String path = DataPaths.resolve(d.path(), conf);
      if (path == null) {
        throw new PerlUserException("stage " + stage.name() + ": data path " + d.path() + " does not exist");
      }
      Dataset<Row> df = spark.read().parquet(path);
      PermutationTransform.transformSchema(df.schema());
      df = df.select(SampleSchema.columns());
      List<String> sourceIds = new ArrayList<>();
      for (Row r : df.select("id").orderBy("id").collectAsList()) {
        String id = r.getString(0);
        if (!seen.add(id)) {
          throw new PerlUserException("stage " + stage.name() + ": prompt id '" + id + "' appears twice in its data ("
              + d.path() + "); ids must be unique across a stage's sources");
        }
        sourceIds.add(id);
      }
      if (sourceIds.isEmpty()) {
        throw new PerlUserException("stage " + stage.name() + ": data path " + d.path() + " has no rows");
      }
      ids.add(sourceIds);
      weights[i] = d.weight();
      all = all == null ? df : all.unionByName(df);
    }
    // Partition membership by id hash and a sorted order within each partition: a pure function of
    // the data, so generation batches and the partition-ordered gradient sum are the same in every run
    // (a round-robin split would depend on how the input files happened to be packed).
    all = all.repartition(partitions, col("id")).sortWithinPartitions("id").persist(StorageLevel.MEMORY_AND_DISK());
    return new StageData(all, ids, weights);
  }

  static long count(SparkSession spark, StageConfig stage) {
    long n = 0;
    for (DataSource d : stage.data()) {
      String path = DataPaths.resolve(d.path(), spark.sparkContext().hadoopConfiguration());
      if (path == null) {
        throw new PerlUserException("stage " + stage.name() + ": data path " + d.path() + " does not exist");
      }
      n += spark.read().parquet(path).count();
    }
    return n;
  }

  List<List<String>> ids() {
    return ids;
  }

  double[] weights() {
    return weights;
  }

  /** The canonical rows of these prompt ids. */
  Dataset<Row> select(List<String> promptIds) {
    return all.filter(col("id").isInCollection(promptIds));
  }

  @Override
  public void close() {
    all.unpersist();
  }
}
