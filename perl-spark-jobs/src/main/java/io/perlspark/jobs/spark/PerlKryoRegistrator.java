package io.perlspark.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.RejectReason;
import io.perlspark.common.data.Rejection;
import io.perlspark.common.data.Sample;
import org.apache.spark.serializer.KryoRegistrator;

/** Registers every class of ours that travels between Spark JVMs, so Kryo writes ids, not names. */
public class PerlKryoRegistrator implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    // Any record (ours or a library's) goes through Java serialisation: Spark's Kryo cannot set
    // final record fields. Registration below still keeps class names off the wire for ours.
    kryo.addDefaultSerializer(Record.class, new JavaSerializer());
    for (Class<?> c : classes()) {
      if (c.isRecord()) {
        // Spark's Kryo (4.x) cannot set final record fields; records are Serializable, so Java
        // serialisation inside Kryo is correct, and still registered (no class names on the wire).
        kryo.register(c, new JavaSerializer());
      } else {
        kryo.register(c);
      }
    }
  }

  /** Also used by a test that checks every listed class round-trips through Kryo. */
  public static Class<?>[] classes() {
    return new Class<?>[] {
      Sample.class, ImageRef.class, AnswerKind.class, RejectReason.class, Rejection.class,
      io.perlspark.model.train.GradientResult.class, io.perlspark.model.loss.LossStats.class,
      io.perlspark.model.train.SftStats.class, io.perlspark.common.eval.EvalAggregator.class,
      io.perlspark.common.eval.EvalRecord.class, io.perlspark.jobs.rollout.PolicyRuntime.class,
      byte[].class, byte[][].class, int[].class, int[][].class, float[].class, float[][].class,
      double[].class, long[].class, String[].class,
      java.util.ArrayList.class, java.util.HashMap.class, java.util.LinkedHashMap.class
    };
  }
}
