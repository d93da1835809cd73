package io.perlspark.jobs.train;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.StageConfig;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** Lets tests of other packages see a data path the way a training stage does ({@link StageData}). */
public final class StageDataProbe {
  private StageDataProbe() {}

  /** The prompt ids a stage reading {@code path} draws from; fails when its rows do not match them. */
  public static List<String> promptIds(SparkSession spark, String path) {
    try (StageData data = StageData.load(spark, StageConfig.ofSteps("probe", 1, List.of(new DataSource(path, 1.0))), 2)) {
      List<String> ids = data.ids().get(0);
      long rows = data.select(ids).count();
      if (rows != ids.size()) {
        throw new AssertionError("stage data of " + path + " has " + rows + " rows for " + ids.size() + " ids");
      }
      return ids;
    }
  }
}
