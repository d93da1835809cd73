package io.perlspark.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the SparkSession for a {@code perl} job. Under spark-submit the master and resources come
 * from spark-submit; launched directly (the embedded default), the job runs on local Spark.
 */
public final class SparkSessions {
  private SparkSessions() {}

  /** The default master when neither spark-submit nor --master gave one. */
  public static final String EMBEDDED_MASTER = "local[2]";

  public static SparkSession create(String appName, String masterOrNull) {
    SparkConf conf = new SparkConf(true); // true: pick up spark.* system properties set by spark-submit
    if (masterOrNull != null && !masterOrNull.isBlank()) {
      conf.setMaster(masterOrNull);
    } else if (!conf.contains("spark.master")) {
      conf.setMaster(EMBEDDED_MASTER);
    }
    applyDefaults(conf);
    return SparkSession.builder().appName(appName).config(conf).getOrCreate();
  }

  /**
   * The session for one command, stopped by {@link Scoped#close()} only when this call created it: a
   * session that was already running belongs to whoever embeds the command (a test, a benchmark, a
   * notebook) and stays up for them.
   */
  public static Scoped scoped(String appName, String masterOrNull) {
    boolean existed = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
    return new Scoped(create(appName, masterOrNull), !existed);
  }

  /** A session and whether closing it stops it. */
  public static final class Scoped implements AutoCloseable {
    private final SparkSession session;
    private final boolean owned;

    private Scoped(SparkSession session, boolean owned) {
      this.session = session;
      this.owned = owned;
    }

    public SparkSession session() {
      return session;
    }

    @Override
    public void close() {
      if (owned) {
        session.stop();
      }
    }
  }

  /** Settings every perl job wants unless the user set them: Kryo with our registrations, quiet UI. */
  public static SparkConf applyDefaults(SparkConf conf) {
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.setIfMissing("spark.kryo.registrator", PerlKryoRegistrator.class.getName());
    conf.setIfMissing("spark.ui.enabled", "false");
    conf.setIfMissing("spark.sql.shuffle.partitions", "8");
    // Embedded runs bind to loopback only.
    if (conf.get("spark.master", "").startsWith("local")) {
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    }
    return conf;
  }
}
