package io.perlspark.jobs.permute;

import io.perlspark.common.permute.PermutedSample;
import io.perlspark.common.permute.Permuter;
import io.perlspark.jobs.data.SampleSchema;
import io.perlspark.jobs.spark.LeanRdds;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * PeRL's permutation as a distributed transform: each canonical row becomes itself plus its k
 * permuted copies, all sharing one group id (one GRPO group per original). Every row's randomness
 * comes from (seed, step, sample id, copy), so the output does not depend on the partitioning.
 *
 * <p>Shaped like a Spark ML Transformer: {@link #transformSchema} checks the input before any work.
 */
public final class PermutationTransform {
  public static final StructType SCHEMA;

  static {
    List<StructField> fields = new ArrayList<>(List.of(SampleSchema.SCHEMA.fields()));
    fields.add(DataTypes.createStructField("group_id", DataTypes.StringType, false));
    fields.add(DataTypes.createStructField("copy", DataTypes.IntegerType, false));
    fields.add(DataTypes.createStructField("original_id", DataTypes.StringType, false));
    fields.add(DataTypes.createStructField("perm_order", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
    SCHEMA = DataTypes.createStructType(fields);
  }

  private final Permuter permuter;

  public PermutationTransform(Permuter permuter) {
    this.permuter = permuter;
  }

  /** The output schema; throws naming the first canonical column the input lacks or mistypes. */
  public static StructType transformSchema(StructType input) {
    for (StructField f : SampleSchema.SCHEMA.fields()) {
      if (!List.of(input.fieldNames()).contains(f.name())) {
        throw new IllegalArgumentException("permutation input lacks column '" + f.name() + "' of the canonical schema "
            + "(prepare the dataset with `perl prepare` first)");
      }
      StructField in = input.apply(f.name());
      if (!in.dataType().sameType(f.dataType())) {
        throw new IllegalArgumentException("permutation input column '" + f.name() + "' is " + in.dataType().simpleString()
            + ", expected " + f.dataType().simpleString());
      }
    }
    return SCHEMA;
  }

  public Dataset<Row> transform(SparkSession spark, Dataset<Row> canonical, long step, long totalSteps) {
    transformSchema(canonical.schema());
    return spark.createDataFrame(expand(canonical.select(SampleSchema.columns()).toJavaRDD(), step, totalSteps), SCHEMA);
  }

  /**
   * The transform on plain rows of the canonical schema, for callers that run it once per step
   * (the trainer): no Dataset to plan. Each row is followed by its copies, in input order and
   * partition; the output rows carry {@link #SCHEMA}.
   */
  public JavaRDD<Row> expand(JavaRDD<Row> canonical, long step, long totalSteps) {
    Permuter p = permuter;
    return LeanRdds.flatMap(canonical, r -> {
      String response = SampleSchema.response(r);
      Integer position = SampleSchema.answerPosition(r);
      List<Row> out = new ArrayList<>();
      for (PermutedSample ps : p.expand(SampleSchema.fromRow(r), step, totalSteps)) {
        out.add(toRow(ps, response, position));
      }
      return out.iterator();
    });
  }

  static Row toRow(PermutedSample ps, String response, Integer answerPosition) {
    Row base = SampleSchema.toRow(ps.sample(), ps.isOriginal() ? response : null,
        ps.isOriginal() ? answerPosition : remapPosition(answerPosition, ps.order()));
    Object[] v = new Object[SCHEMA.fields().length];
    for (int i = 0; i < base.length(); i++) {
      v[i] = base.get(i);
    }
    int n = base.length();
    v[n] = ps.groupId();
    v[n + 1] = ps.copy();
    v[n + 2] = ps.originalId();
    List<Integer> order = new ArrayList<>(ps.order().length);
    for (int o : ps.order()) {
      order.add(o);
    }
    v[n + 3] = CollectionConverters.asScala(order).toSeq();
    return new GenericRowWithSchema(v, SCHEMA);
  }

  /** The answer image's new 1-based position after the reorder (0 or null: not applicable). */
  static Integer remapPosition(Integer position, int[] order) {
    if (position == null || position <= 0) {
      return position;
    }
    for (int j = 0; j < order.length; j++) {
      if (order[j] == position - 1) {
        return j + 1;
      }
    }
    return position;
  }
}
