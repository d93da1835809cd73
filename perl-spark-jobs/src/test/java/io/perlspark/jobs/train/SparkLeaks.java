package io.perlspark.jobs.train;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkEnv;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.BroadcastBlockId;
import scala.jdk.javaapi.CollectionConverters;

/**
 * What a training run may have left in the driver's Spark session. Spark keeps its own broadcasts
 * (task binaries, Hadoop configurations) until garbage collection, so the trainer's are told apart
 * by their values: parameter bytes of the policy's size, or the group sets and advantage maps of
 * an update.
 */
final class SparkLeaks {
  private SparkLeaks() {}

  /** The trainer's broadcast values the driver's block manager still holds, e.g. "broadcast_12 byte[]". */
  static List<String> trainerBroadcasts(int parameterBytes) {
    BlockManager blocks = SparkEnv.get().blockManager();
    List<String> alive = new ArrayList<>();
    // The value block of a broadcast has no field; its pieces are "piece0", "piece1", ...
    for (BlockId id : CollectionConverters.asJava(blocks.getMatchingBlockIds(
        b -> b instanceof BroadcastBlockId bb && bb.field().isEmpty()))) {
      scala.Option<scala.collection.Iterator<Object>> values = blocks.memoryStore().getValues(id);
      if (values.isEmpty() || !values.get().hasNext()) {
        continue;
      }
      Object v = values.get().next();
      if ((v instanceof byte[] b && b.length == parameterBytes) || v instanceof java.util.Set
          || v instanceof java.util.Map) {
        alive.add(id.name() + " " + v.getClass().getSimpleName());
      }
    }
    return alive;
  }

  /** As {@link #trainerBroadcasts}, after giving asynchronous removal up to 10 s. */
  static List<String> awaitNoTrainerBroadcasts(int parameterBytes) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    List<String> alive = trainerBroadcasts(parameterBytes);
    while (!alive.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      alive = trainerBroadcasts(parameterBytes);
    }
    return alive;
  }

  /** Whether no Dataset is cached in the session (persisted ones count even before they are computed). */
  static boolean noCachedQueries(SparkSession spark) {
    return ((org.apache.spark.sql.classic.SparkSession) spark).sharedState().cacheManager().isEmpty();
  }
}
