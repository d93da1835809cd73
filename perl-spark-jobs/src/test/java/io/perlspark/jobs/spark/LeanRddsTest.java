package io.perlspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** The closure-free operations give what Spark's own give, run only the partitions asked for, and name their caller. */
class LeanRddsTest {
  static SparkSession spark;
  static JavaSparkContext jsc;
  static final List<String> stageNames = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("LeanRddsTest", "local[2]");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    jsc.sc().addSparkListener(new SparkListener() {
      @Override
      public void onStageSubmitted(SparkListenerStageSubmitted e) {
        stageNames.add(e.stageInfo().name());
      }
    });
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static JavaRDD<Integer> numbers() {
    List<Integer> a = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      a.add(i);
    }
    return jsc.parallelize(a, 3);
  }

  @Test
  void mapPartitionsSeesEachPartitionWithItsIndexAsSparksOwnDoes() {
    JavaRDD<String> ours = LeanRdds.mapPartitions(numbers(), (p, rows) -> {
      List<String> out = new ArrayList<>();
      rows.forEachRemaining(r -> out.add(p + ":" + r));
      return out.iterator();
    });
    JavaRDD<String> sparks = numbers().mapPartitionsWithIndex((p, rows) -> {
      List<String> out = new ArrayList<>();
      rows.forEachRemaining(r -> out.add(p + ":" + r));
      return out.iterator();
    }, false);
    assertEquals(3, ours.getNumPartitions());
    assertEquals(sparks.glom().collect(), ours.glom().collect());
    assertEquals(sparks.collect(), LeanRdds.collect(ours));
  }

  @Test
  void flatMapAndFilterKeepPartitionsAndOrder() {
    JavaRDD<Integer> flat = LeanRdds.flatMap(numbers(), r -> r % 3 == 0 ? List.<Integer>of().iterator()
        : List.of(r, -r).iterator());
    assertEquals(numbers().flatMap(r -> r % 3 == 0 ? List.<Integer>of().iterator() : List.of(r, -r).iterator())
        .glom().collect(), flat.glom().collect());
    JavaRDD<Integer> odd = LeanRdds.filter(numbers(), r -> r % 2 == 1);
    assertEquals(numbers().filter(r -> r % 2 == 1).glom().collect(), odd.glom().collect());
  }

  @Test
  void filterKeepsThePartitionerAndMapPartitionsDropsIt() {
    JavaPairRDD<Integer, Integer> keyed = JavaPairRDD.fromJavaRDD(numbers().map(i -> new Tuple2<>(i, i)))
        .partitionBy(new HashPartitioner(4));
    JavaRDD<Tuple2<Integer, Integer>> rows = keyed.rdd().toJavaRDD();
    assertTrue(LeanRdds.filter(rows, t -> t._1() > 3).rdd().partitioner().isDefined());
    assertTrue(LeanRdds.mapPartitions(rows, (p, it) -> it).rdd().partitioner().isEmpty());
  }

  @Test
  void collectPartitionsRunsOnlyTheListedPartitionsAndAnswersInTheirOrder() {
    LongAccumulator computed = jsc.sc().longAccumulator("partitions computed");
    JavaRDD<Integer> counted = LeanRdds.mapPartitions(numbers(), (p, rows) -> {
      computed.add(1);
      return rows;
    });
    List<List<Integer>> parts = LeanRdds.collectPartitions(counted, new int[] {2, 0});
    assertEquals(List.of(numbers().glom().collect().get(2), numbers().glom().collect().get(0)), parts);
    assertEquals(2, computed.value());
  }

  @Test
  void aJobIsNamedForItsCaller() throws Exception {
    jsc.sc().listenerBus().waitUntilEmpty(); // no stage of an earlier test arrives after the clear
    stageNames.clear();
    LeanRdds.collect(numbers());
    LeanRdds.collectPartitions(numbers(), new int[] {1});
    jsc.sc().listenerBus().waitUntilEmpty();
    int line = new Throwable().getStackTrace()[0].getLineNumber() - 3;
    assertEquals(List.of("collect at LeanRddsTest.java:" + line, "collectPartitions at LeanRddsTest.java:" + (line + 1)),
        stageNames);
  }

  @Test
  void aFailingFunctionFailsItsJobWithItsOwnException() {
    JavaRDD<Integer> failing = LeanRdds.mapPartitions(numbers(), (p, rows) -> {
      if (p == 1) {
        throw new java.io.IOException("partition one is unreadable");
      }
      return rows;
    });
    SparkException e = assertThrows(SparkException.class, () -> LeanRdds.collect(failing));
    // the function's own exception, not wrapped: as from a JavaRDD function
    assertTrue(e.getMessage().contains("java.io.IOException: partition one is unreadable"), e.getMessage());
    assertFalse(e.getMessage().contains("IllegalStateException"), e.getMessage());
  }

  @Test
  void aFunctionThatCannotBeSerialisedFailsWhenItsJobIsSubmitted() {
    Object notSerialisable = new Object();
    JavaRDD<Integer> rdd = LeanRdds.mapPartitions(numbers(), (p, rows) -> {
      Iterator<Integer> it = rows;
      return notSerialisable.hashCode() == 0 ? null : it;
    });
    SparkException e = assertThrows(SparkException.class, () -> LeanRdds.collect(rdd));
    assertTrue(e.getMessage().contains("not serializable"), e.getMessage());
  }
}
