package io.perlspark.model.family;

import java.util.Objects;
import org.apache.hadoop.conf.Configuration;

/**
 * What a family may need, besides the run's model config, to make its recipe on the driver: the seed
 * of freshly initialised parameters, and the Hadoop settings to read {@code model.path} with (the
 * Spark application's, so {@code spark.hadoop.*} credentials and endpoints apply).
 */
public final class RecipeContext {
  private final long initSeed;
  private final Configuration hadoopConfiguration;

  private RecipeContext(Builder b) {
    this.initSeed = b.initSeed;
    this.hadoopConfiguration =
        b.hadoopConfiguration != null ? b.hadoopConfiguration : new Configuration();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Seed of freshly initialised parameters (the run seed); 0 unless set. */
  public long initSeed() {
    return initSeed;
  }

  /** The Hadoop settings to read model files with; a default {@code Configuration} unless set. */
  public Configuration hadoopConfiguration() {
    return hadoopConfiguration;
  }

  /** Builds a {@link RecipeContext}; every setting is optional. */
  public static final class Builder {
    private long initSeed;
    private Configuration hadoopConfiguration;

    private Builder() {}

    public Builder optInitSeed(long seed) {
      this.initSeed = seed;
      return this;
    }

    public Builder optHadoopConfiguration(Configuration conf) {
      this.hadoopConfiguration = Objects.requireNonNull(conf, "conf");
      return this;
    }

    public RecipeContext build() {
      return new RecipeContext(this);
    }
  }
}
