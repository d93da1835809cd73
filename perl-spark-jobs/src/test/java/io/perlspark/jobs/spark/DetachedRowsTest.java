package io.perlspark.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.reflect.ClassTag$;

/**
 * The trainer's prompts behind a partition-keeping shuffle: the same rows in the same partitions and
 * order as the Dataset they come from, with a lineage that no longer carries the Dataset's plan.
 */
class DetachedRowsTest {
  static SparkSession spark;
  @TempDir static java.nio.file.Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkSessions.create("DetachedRowsTest", "local[2]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** As StageData prepares a stage: Parquet, hash-partitioned by id, sorted within partitions. */
  private static Dataset<Row> sortedPrompts(int rows, int partitions) {
    StructType schema = new StructType().add("id", DataTypes.StringType).add("images",
        DataTypes.createArrayType(DataTypes.BinaryType)).add("answer_position", DataTypes.IntegerType);
    List<Row> data = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      List<byte[]> images = List.of(new byte[] {(byte) i, 1}, new byte[] {2, (byte) (i * 7)});
      data.add(RowFactory.create("s" + (i * 7919 % 1000), scala.jdk.javaapi.CollectionConverters.asScala(images).toSeq(),
          i % 3 == 0 ? null : i % 4));
    }
    String path = tmp.resolve("prompts-" + rows + "-" + partitions).toString();
    spark.createDataFrame(data, schema).write().parquet(path);
    return spark.read().parquet(path).repartition(partitions, col("id")).sortWithinPartitions("id");
  }

  @Test
  void sameRowsInTheSamePartitionsAndOrder() {
    Dataset<Row> sorted = sortedPrompts(300, 3);
    List<List<Row>> expected = sorted.javaRDD().glom().collect();
    JavaRDD<Row> detached = DetachedRows.of(sorted);
    List<List<Row>> actual = detached.glom().collect();
    assertEquals(3, actual.size());
    int nonEmpty = 0;
    for (int p = 0; p < expected.size(); p++) {
      List<Row> want = expected.get(p);
      List<Row> got = actual.get(p);
      assertEquals(want.size(), got.size(), "partition " + p);
      nonEmpty += want.isEmpty() ? 0 : 1;
      for (int i = 0; i < want.size(); i++) {
        assertEquals(want.get(i).<String>getAs("id"), got.get(i).<String>getAs("id"), "partition " + p + " row " + i);
        assertEquals((Integer) want.get(i).getAs("answer_position"), (Integer) got.get(i).getAs("answer_position"));
        List<byte[]> a = want.get(i).getList(want.get(i).fieldIndex("images"));
        List<byte[]> b = got.get(i).getList(got.get(i).fieldIndex("images"));
        assertEquals(a.size(), b.size());
        for (int k = 0; k < a.size(); k++) {
          assertTrue(java.util.Arrays.equals(a.get(k), b.get(k)));
        }
        assertEquals(want.get(i).schema(), got.get(i).schema(), "rows keep their schema: read by column name");
      }
    }
    assertTrue(nonEmpty >= 2, "the test needs rows in more than one partition");
  }

  /**
   * What a task deserialises: the Dataset's lineage carries its physical plan and a Hadoop
   * configuration; the detached rows' lineage stops at the shuffle.
   */
  @Test
  void theLineageNoLongerCarriesThePlan() throws Exception {
    Dataset<Row> sorted = sortedPrompts(50, 2);
    String viaDataset = serialized(sorted.javaRDD().filter(r -> r.getAs("id") != null));
    String detached = serialized(DetachedRows.of(sorted).filter(r -> r.getAs("id") != null));
    assertTrue(viaDataset.contains("SerializableConfiguration"), "the test's premise: the Dataset's lineage holds one");
    assertFalse(detached.contains("SerializableConfiguration"));
    assertFalse(detached.contains("SparkPlan"));
    assertTrue(detached.length() * 4 < viaDataset.length(), detached.length() + " vs " + viaDataset.length() + " bytes");
  }

  /** The shuffled values go through Kryo on a cluster, which requires registration there. */
  @Test
  void shuffledValuesRoundTripThroughKryoWithRegistrationRequired() {
    SerializerInstance kryo = new KryoSerializer(new SparkConf(false)
        .set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName())).newInstance();
    Object[] values = {"s1", scala.jdk.javaapi.CollectionConverters.asScala(List.of(new byte[] {1, 2})).toSeq(), null};
    var tag = ClassTag$.MODULE$.<DetachedRows.RowValues>apply(DetachedRows.RowValues.class);
    DetachedRows.RowValues back = kryo.deserialize(kryo.serialize(new DetachedRows.RowValues(values), tag), tag);
    assertEquals("s1", back.values()[0]);
    assertEquals(null, back.values()[2]);
  }

  private static String serialized(JavaRDD<Row> rdd) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(rdd.rdd());
    }
    return bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
