package io.perlspark.jobs.train;

import static org.apache.spark.sql.functions.col;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.StageConfig;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.DetachedRows;
import io.perlspark.jobs.spark.LeanRdds;
import io.perlspark.common.permute.PermutationEligibility;
import io.perlspark.common.permute.SlotSelection;
import io.perlspark.jobs.permute.PermutationTransform;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
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
  /** {@link #all} as rows, planned once: the trainer draws from it every round without Dataset planning. */
  private final JavaRDD<Row> rows;
  private final List<List<String>> ids;
  private final double[] weights;
  private final Eligibility eligibility;
  /** Each prompt's partition of {@link #rows}; null when the verdicts were not computed (SFT). */
  private final Map<String, Integer> partitionOf;

  private StageData(Dataset<Row> all, JavaRDD<Row> rows, List<List<String>> ids, double[] weights,
      Eligibility eligibility, Map<String, Integer> partitionOf) {
    this.partitionOf = partitionOf;
    this.all = all;
    this.rows = rows;
    this.ids = ids;
    this.weights = weights;
    this.eligibility = eligibility;
  }

  /**
   * Which of the stage's prompts a permutation can move, with the slot selection in force: the
   * driver counts eligible prompts per step from it, and the stage start warns when none can be.
   *
   * @param byVerdict prompts per {@link PermutationEligibility.Verdict}
   */
  record Eligibility(Set<String> permutable, long prompts, long multiImage,
      java.util.Map<PermutationEligibility.Verdict, Long> byVerdict) {

    /** The counts as one line, e.g. for the stage-start log. */
    String describe() {
      String not = byVerdict.entrySet().stream()
          .filter(e -> !e.getKey().isPermutable())
          .map(e -> e.getKey().name().toLowerCase(java.util.Locale.ROOT) + " " + e.getValue())
          .collect(java.util.stream.Collectors.joining(", "));
      return permutable.size() + " of " + prompts + " prompts can be permuted (" + multiImage
          + " have 2 or more images" + (not.isEmpty() ? "" : "; not permutable: " + not) + ")";
    }
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

  /** A stage's data without permutation verdicts (SFT does not permute). */
  static StageData load(SparkSession spark, StageConfig stage, int partitions) {
    return load(spark, stage, partitions, null);
  }

  /** @param slots the stage's permutation slots, for {@link #eligibility()}; null: not computed */
  static StageData load(SparkSession spark, StageConfig stage, int partitions, SlotSelection slots) {
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
        String id = r.getAs("id");
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
    all = all.repartition(partitions, col("id")).sortWithinPartitions("id");
    JavaRDD<Row> rows;
    if (slots == null) {
      all = all.persist(StorageLevel.MEMORY_AND_DISK()); // SFT selects batches as Datasets
      rows = all.javaRDD();
    } else {
      rows = DetachedRows.of(all).persist(StorageLevel.MEMORY_AND_DISK());
    }
    List<PromptVerdict> verdicts = slots == null ? null : verdicts(rows, slots);
    Map<String, Integer> partitionOf = null;
    if (verdicts != null) {
      partitionOf = new HashMap<>();
      for (PromptVerdict v : verdicts) {
        partitionOf.put(v.id(), v.partition());
      }
    }
    return new StageData(all, rows, ids, weights, verdicts == null ? null : eligibility(verdicts), partitionOf);
  }

  /**
   * One pass over the cached prompts: each prompt's permutation verdict and partition (ids, verdicts
   * and partitions only reach the driver).
   */
  private static List<PromptVerdict> verdicts(JavaRDD<Row> all, SlotSelection slots) {
    return all.mapPartitionsWithIndex((partition, rows) -> {
      List<PromptVerdict> out = new ArrayList<>();
      rows.forEachRemaining(r -> {
        io.perlspark.common.data.Sample s = SampleSchema.fromRow(r);
        out.add(new PromptVerdict(s.id(), s.imageCount(), PermutationEligibility.check(s, slots), partition));
      });
      return out.iterator();
    }, false).collect();
  }

  private static Eligibility eligibility(List<PromptVerdict> verdicts) {
    Set<String> permutable = new HashSet<>();
    java.util.Map<PermutationEligibility.Verdict, Long> byVerdict =
        new java.util.EnumMap<>(PermutationEligibility.Verdict.class);
    long multiImage = 0;
    for (PromptVerdict v : verdicts) {
      byVerdict.merge(v.verdict(), 1L, Long::sum);
      multiImage += v.images() >= 2 ? 1 : 0;
      if (v.verdict().isPermutable()) {
        permutable.add(v.id());
      }
    }
    return new Eligibility(permutable, verdicts.size(), multiImage, byVerdict);
  }

  Eligibility eligibility() {
    return eligibility;
  }

  /** How many partitions the cached prompts have ({@link #rowsOf}'s result has as many). */
  int partitions() {
    return rows.getNumPartitions();
  }

  /** The partition of {@link #rowsOf}'s result that holds this prompt; -1 when not known (SFT's data). */
  int partitionOf(String promptId) {
    return partitionOf == null ? -1 : partitionOf.getOrDefault(promptId, -1);
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

  /**
   * The same rows as {@link #select}, in the same partitions and order (the cached partitioning,
   * sorted by id), as plain rows: no Dataset planning per call.
   */
  JavaRDD<Row> rowsOf(List<String> promptIds) {
    Set<String> wanted = new HashSet<>(promptIds);
    return LeanRdds.filter(rows, r -> wanted.contains(r.<String>getAs("id")));
  }

  @Override
  public void close() {
    all.unpersist();
    rows.unpersist(false);
  }
}
