package io.perlspark.jobs.train;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.config.StageConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Checks a run before any Spark work: settings with which it cannot learn ({@link
 * PerlConfig#learningProblems()}), and every stage's data, the eval splits and model.init must
 * exist. Problems are reported together, each naming its key.
 */
public final class Preflight {
  private Preflight() {}

  public static void forTraining(PerlConfig cfg) {
    List<StageConfig> stages = cfg.requireStages();
    Configuration conf = new Configuration();
    List<ConfigException.Problem> problems = new ArrayList<>(cfg.learningProblems());
    for (String p : StageData.missing(stages, conf)) {
      problems.add(new ConfigException.Problem(p.substring(0, p.indexOf(':')), p.substring(p.indexOf(':') + 2)));
    }
    for (int i = 0; i < cfg.eval().splits().size(); i++) {
      String path = cfg.eval().splits().get(i).path();
      if (io.perlspark.jobs.data.DataPaths.resolve(path, conf) == null) {
        problems.add(new ConfigException.Problem("eval.splits[" + i + "].path", path + " does not exist"));
      }
    }
    String init = cfg.model().init();
    if (init != null && !init.isBlank()) {
      try {
        Path p = new Path(init);
        if (!p.getFileSystem(conf).exists(p)) {
          problems.add(new ConfigException.Problem("model.init", init + " does not exist"));
        }
      } catch (java.io.IOException e) {
        problems.add(new ConfigException.Problem("model.init", init + ": " + e.getMessage()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }
}
