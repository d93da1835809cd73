package io.perlspark.common.config;

import java.io.Serializable;

/**
 * One data source of a stage or an evaluation split.
 *
 * @param path a prepared dataset (directory of Parquet shards) or file
 * @param weight relative sampling weight within the stage's mix, > 0 (default 1.0)
 */
public record DataSource(String path, double weight) implements Serializable {
  public static final double DEFAULT_WEIGHT = 1.0;

  public DataSource(String path) {
    this(path, DEFAULT_WEIGHT);
  }

  /** The values a list item starts from before the user's keys are merged onto it. */
  static DataSource template() {
    return new DataSource(null, DEFAULT_WEIGHT);
  }

  void check(Checks c, String path) {
    c.notBlank(Checks.join(path, "path"), this.path);
    c.positive(Checks.join(path, "weight"), weight);
  }
}
