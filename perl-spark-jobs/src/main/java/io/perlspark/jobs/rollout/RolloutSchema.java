package io.perlspark.jobs.rollout;

import io.perlspark.jobs.permute.PermutationTransform;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** One row per sampled response: the permuted prompt's columns plus the response and its scores. */
public final class RolloutSchema {
  private RolloutSchema() {}

  public static final StructType SCHEMA;

  static {
    List<StructField> f = new ArrayList<>(List.of(PermutationTransform.SCHEMA.fields()));
    f.add(DataTypes.createStructField("idx", DataTypes.IntegerType, false));
    f.add(DataTypes.createStructField("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false));
    f.add(DataTypes.createStructField("old_logp", DataTypes.createArrayType(DataTypes.FloatType, false), false));
    f.add(DataTypes.createStructField("ref_logp", DataTypes.createArrayType(DataTypes.FloatType, false), true));
    f.add(DataTypes.createStructField("finished", DataTypes.BooleanType, false));
    f.add(DataTypes.createStructField("response_len", DataTypes.IntegerType, false));
    f.add(DataTypes.createStructField("response_text", DataTypes.StringType, false));
    f.add(DataTypes.createStructField("extracted", DataTypes.StringType, true));
    f.add(DataTypes.createStructField("reward", DataTypes.DoubleType, false));
    f.add(DataTypes.createStructField("accuracy", DataTypes.DoubleType, false));
    f.add(DataTypes.createStructField("format", DataTypes.DoubleType, false));
    SCHEMA = DataTypes.createStructType(f);
  }
}
