package io.perlspark.common.config;

import java.io.Serializable;

/**
 * Identity of a run.
 *
 * @param name run name, used in logs and metric files
 * @param seed root seed; every random choice of the run derives from it
 * @param outputDir where checkpoints, metrics and the resolved config are written
 */
public record RunConfig(String name, long seed, String outputDir) implements Serializable {
  public static RunConfig defaults() {
    return new RunConfig("perl", 42L, "runs/perl");
  }

  void check(Checks c, String path) {
    c.notBlank(Checks.join(path, "name"), name);
    c.notBlank(Checks.join(path, "outputDir"), outputDir);
  }
}
