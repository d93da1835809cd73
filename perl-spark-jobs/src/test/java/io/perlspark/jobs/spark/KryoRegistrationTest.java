package io.perlspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalRecord;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The cluster templates (conf/spark-defaults-cluster.conf) turn on spark.kryo.registrationRequired:
 * everything perl jobs send through Kryo must be registered, or the job fails on the first task.
 * These are the objects a cluster run showed Spark does not register itself.
 */
class KryoRegistrationTest {
  static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();

  static SerializerInstance kryo() {
    SparkConf conf = new SparkConf(false)
        .set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName());
    return new KryoSerializer(conf).newInstance();
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(SerializerInstance k, T value) {
    return (T) k.deserialize(k.serialize(value, ANY), ANY);
  }

  @Test
  void registrationIsRequiredSoAnUnlistedClassFails() {
    Exception e = assertThrows(Exception.class, () -> kryo().serialize(new TreeSet<>(List.of("a")), ANY));
    assertTrue(String.valueOf(e.getMessage()).contains("Class is not registered"), e.toString());
  }

  @Test
  void theTrainersBroadcastGroupSetRoundTrips() {
    Set<String> groups = new HashSet<>(List.of("g1", "g2", "g3"));
    assertEquals(groups, roundTrip(kryo(), groups));
  }

  /** Task results carry our schemas (a cluster run failed on ArrayType inside a StructType). */
  @Test
  void ourSchemaTypesRoundTripAndStaySingletons() {
    StructType schema = new StructType()
        .add("id", DataTypes.StringType)
        .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType))
        .add("old_logp", DataTypes.createArrayType(DataTypes.FloatType))
        .add("image", DataTypes.BinaryType)
        .add("correct", DataTypes.BooleanType)
        .add("reward", DataTypes.DoubleType)
        .add("step", DataTypes.LongType);
    assertEquals(schema, roundTrip(kryo(), schema));
    // Spark matches types by identity (case objects): a deserialised type must be the singleton.
    for (DataType t : List.of(DataTypes.BinaryType, DataTypes.BooleanType, DataTypes.FloatType)) {
      assertSame(t, roundTrip(kryo(), t), t.typeName());
    }
  }

  @Test
  void evalAggregatorsRoundTripWithTheirWholeState() {
    EvalAggregator agg = new EvalAggregator();
    for (int perm = 0; perm < 2; perm++) {
      int[] order = perm == 0 ? new int[] {0, 1, 2} : new int[] {1, 0, 2};
      int answer = perm == 0 ? 1 : 2;
      agg.add(new EvalRecord("eval", "s1", "which_image", AnswerKind.IMAGE_INDEX, 3, perm, order, answer,
          Integer.toString(answer), "1", 1, perm == 0, true, 15));
    }
    EvalAggregator back = roundTrip(kryo(), agg);
    assertEquals(agg.records(), back.records());
    assertEquals(agg.report(), back.report());
  }

  /**
   * Task results of the prepare probe and of the trainer's permutation verdicts (a standalone run
   * with registrationRequired failed on a GenericRow the verdicts were first collected as).
   */
  @Test
  void probeAndVerdictResultsRoundTrip() {
    var probe = new io.perlspark.jobs.prepare.InputProbe.FileProbe("file:/a.jsonl", null, List.of("id", "images"), null);
    assertEquals(probe, roundTrip(kryo(), probe));
    var verdict = new io.perlspark.jobs.train.PromptVerdict("s1", 3,
        io.perlspark.common.permute.PermutationEligibility.Verdict.POSITION_REFERRING_TEXT, 1);
    assertEquals(verdict, roundTrip(kryo(), verdict));
    List<Object> results = new java.util.ArrayList<>(List.of(verdict, verdict));
    assertEquals(results, roundTrip(kryo(), results));
  }

  @Test
  void everyListedClassIsRegistered() {
    var k = new KryoSerializer(new SparkConf(false).set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName())).newKryo();
    for (Class<?> c : PerlKryoRegistrator.classes()) {
      assertEquals(c, k.getRegistration(c).getType());
    }
  }
}
