package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.jobs.permute.PermutationTransform;
import io.perlspark.jobs.rollout.Rollout;
import io.perlspark.jobs.spark.PerlKryoRegistrator;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/** The rollout tasks' results reach the driver whole, also under spark.kryo.registrationRequired (the cluster templates). */
class RolloutSummariesTest {
  private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();

  @Test
  void summariesRoundTripThroughKryoWithRegistrationRequired() {
    List<Rollout> rollouts = List.of(
        new Rollout(prompt("g1", "s1", 0), 0, new int[] {5, 2}, new float[] {-0.5f, -0.25f}, null, true, "B.", "B",
            1.0, 1.0, 1.0),
        new Rollout(prompt("g1", "s1#p1", 1), 3, new int[] {7}, new float[] {-1f}, new float[] {-2f}, false, "?", null,
            0.0, 0.0, 1.0));
    RolloutSummaries s = RolloutSummaries.of(5, rollouts.iterator());

    SerializerInstance kryo = new KryoSerializer(new SparkConf(false)
        .set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName())).newInstance();
    RolloutSummaries back = (RolloutSummaries) kryo.deserialize(kryo.serialize(s, ANY), ANY);

    assertEquals(5, back.partition());
    List<RolloutInfo> infos = back.infos();
    assertEquals(List.of(RolloutInfo.of(rollouts.get(0), 5), RolloutInfo.of(rollouts.get(1), 5)), infos);
    assertEquals(new RolloutInfo("g1", "s1", 0, 0, 1.0, 1.0, 1.0, 2, true, -0.75, "Which image?", "B", "B.", 5),
        infos.get(0));
    assertEquals("s1#p1/3", infos.get(1).key());
    assertEquals(1, infos.get(1).copy());
  }

  /**
   * A gradient task reading a slice cached on another executor gets the slice's block (one array of
   * rollouts per rollout task) through Kryo.
   */
  @Test
  void cachedRolloutsRoundTripThroughKryoWithRegistrationRequired() {
    Rollout r = new Rollout(prompt("g1", "s1#p1", 1), 3, new int[] {7, 2}, new float[] {-1f, -0.5f},
        new float[] {-2f, -0.25f}, false, "?", null, 0.0, 0.0, 1.0);
    SerializerInstance kryo = new KryoSerializer(new SparkConf(false)
        .set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName())).newInstance();
    Rollout[] block = (Rollout[]) kryo.deserialize(kryo.serialize(new Rollout[] {r, r}, ANY), ANY);
    assertEquals(2, block.length);
    Rollout back = block[1];
    assertEquals(RolloutInfo.of(r, 0), RolloutInfo.of(back, 0));
    assertEquals(java.util.Arrays.toString(r.refLogp()), java.util.Arrays.toString(back.refLogp()));
    assertEquals(r.prompt(), back.prompt());
  }

  /** A permuted prompt row with the columns a summary reads; the rest stay null. */
  private static Row prompt(String group, String id, int copy) {
    StructType schema = PermutationTransform.SCHEMA;
    Object[] v = new Object[schema.fields().length];
    v[schema.fieldIndex("group_id")] = group;
    v[schema.fieldIndex("id")] = id;
    v[schema.fieldIndex("copy")] = copy;
    v[schema.fieldIndex("problem")] = "Which image?";
    v[schema.fieldIndex("answer")] = "B";
    return new GenericRowWithSchema(v, schema);
  }
}
