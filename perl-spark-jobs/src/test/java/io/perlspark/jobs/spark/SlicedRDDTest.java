package io.perlspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Slices hold exactly the runs of elements a task over the whole parent partition would cut, and regroup undoes them. */
class SlicedRDDTest {
  static SparkSession spark;
  static JavaSparkContext jsc;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("SlicedRDDTest", "local[2]");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** Partition 0 holds 0..9, partition 1 holds 100..102. */
  private static JavaRDD<Integer> parent() {
    List<Integer> a = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      a.add(i);
    }
    return jsc.parallelize(a, 1).union(jsc.parallelize(List.of(100, 101, 102), 1));
  }

  @Test
  void slicesAreConsecutiveRunsOfTheirParentPartitionFirstSlicesFirst() {
    int[] slices = {3, 2}; // 10 elements in slices of 4: 3 slices; 3 elements: 1 slice (+1 past the end: empty)
    JavaRDD<Integer> sliced = SlicedRDD.of(parent(), slices, 4);
    assertEquals(5, sliced.getNumPartitions());
    assertArrayEquals(new int[] {0, 1, 0, 1, 0}, SlicedRDD.parentsOf(slices));
    List<List<Integer>> parts = sliced.glom().collect();
    assertEquals(List.of(List.of(0, 1, 2, 3), List.of(100, 101, 102), List.of(4, 5, 6, 7), List.of(), List.of(8, 9)),
        parts);
  }

  @Test
  void regroupPutsTheSlicesBackTogether() {
    JavaRDD<Integer> sliced = SlicedRDD.of(parent(), new int[] {3, 2}, 4);
    JavaRDD<Integer> whole = SlicedRDD.regroup(sliced, new int[][] {{0, 2, 4}, {1, 3}});
    assertEquals(List.of(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), List.of(100, 101, 102)), whole.glom().collect());
  }

  @Test
  void badSliceCountsAreRefusedWithTheReason() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SlicedRDD.of(parent(), new int[] {1}, 4));
    assertEquals("need one slice count per parent partition (2, got 1) and sliceSize >= 1 (got 4)", e.getMessage());
  }
}
