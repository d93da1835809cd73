package io.perlspark.jobs.eval;

import io.perlspark.common.config.DataSource;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.eval.ScopeReport;
import io.perlspark.jobs.data.DataPaths;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.PerlTrainer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** Validation during training: the eval splits of the config, scored every trainer.evalEvery steps. */
public final class Validations {
  private Validations() {}

  /** The validation of a run config, or null when it has no eval splits or evalEvery is 0. */
  public static PerlTrainer.Validation forConfig(SparkSession spark, PerlConfig cfg) {
    if (cfg.eval().splits().isEmpty() || cfg.trainer().evalEvery() == 0) {
      return null;
    }
    List<String> paths = new ArrayList<>();
    for (DataSource d : cfg.eval().splits()) {
      paths.add(DataPaths.resolve(d.path(), spark.sparkContext().hadoopConfiguration()));
    }
    Map<String, String> splits = Evaluator.splits(paths);
    Evaluator evaluator = new Evaluator(PolicyRuntime.from(cfg.model(), cfg.run().seed()), Evaluator.Settings.from(cfg));
    return (step, params) -> summary(evaluator.evaluate(spark, params, "val" + step, splits));
  }

  /** The headline numbers of a report, as flat metrics. */
  public static Map<String, Object> summary(EvalReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    ScopeReport o = r.overall();
    m.put("accuracy", o.metrics().accuracy());
    m.put("accuracy_multi", o.multiImage().accuracy());
    m.put("accuracy_single", o.singleImage().accuracy());
    m.put("accuracy_all_perms", o.metrics().accuracyAllPermutations());
    m.put("format_rate", o.metrics().formatRate());
    m.put("share_naming_image1", o.positional().shareNamingImage1());
    m.put("bias_gap", o.positional().biasGap());
    m.put("consistency", o.consistency().consistency());
    m.values().removeIf(v -> v == null);
    return m;
  }
}
