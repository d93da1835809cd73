package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.jobs.rollout.RolloutSchema;
import io.perlspark.jobs.spark.PerlKryoRegistrator;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/** The rollout tasks' results reach the driver whole, also under spark.kryo.registrationRequired (the cluster templates). */
class RolloutSummariesTest {
  private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();

  @Test
  void summariesRoundTripThroughKryoWithRegistrationRequired() {
    List<Row> rows = List.of(row("g1", "s1", 0, 0, 1.0, 1.0, 1.0, new float[] {-0.5f, -0.25f}, true, "B"),
        row("g1", "s1#p1", 1, 3, 0.0, 0.0, 1.0, new float[] {-1f}, false, null));
    RolloutSummaries s = RolloutSummaries.of(5, rows.iterator());

    SerializerInstance kryo = new KryoSerializer(new SparkConf(false)
        .set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", PerlKryoRegistrator.class.getName())).newInstance();
    RolloutSummaries back = (RolloutSummaries) kryo.deserialize(kryo.serialize(s, ANY), ANY);

    assertEquals(5, back.partition());
    List<RolloutInfo> infos = back.infos();
    assertEquals(List.of(RolloutInfo.of(rows.get(0), 5), RolloutInfo.of(rows.get(1), 5)), infos);
    assertEquals(-0.75, infos.get(0).logpSum());
    assertEquals("s1#p1/3", infos.get(1).key());
  }

  private static Row row(String group, String id, int copy, int idx, double reward, double accuracy, double format,
      float[] logp, boolean finished, String extracted) {
    StructType schema = RolloutSchema.SCHEMA;
    Object[] v = new Object[schema.fields().length];
    set(v, "group_id", group);
    set(v, "id", id);
    set(v, "copy", copy);
    set(v, "idx", idx);
    set(v, "problem", "Which image shows the red square?");
    set(v, "answer", "B");
    List<Float> l = new java.util.ArrayList<>();
    for (float f : logp) {
      l.add(f);
    }
    set(v, "old_logp", CollectionConverters.asScala(l).toSeq());
    set(v, "finished", finished);
    set(v, "response_len", logp.length);
    set(v, "response_text", "answer: " + extracted);
    set(v, "extracted", extracted);
    set(v, "reward", reward);
    set(v, "accuracy", accuracy);
    set(v, "format", format);
    return new GenericRowWithSchema(v, schema);
  }

  private static void set(Object[] v, String column, Object value) {
    v[RolloutSchema.SCHEMA.fieldIndex(column)] = value;
  }
}
