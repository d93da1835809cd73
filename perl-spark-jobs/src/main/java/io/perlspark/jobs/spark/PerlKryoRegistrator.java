package io.perlspark.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.RejectReason;
import io.perlspark.common.data.Rejection;
import io.perlspark.common.data.Sample;
import io.perlspark.common.eval.EvalAggregator;
import java.util.Set;
import org.apache.spark.serializer.KryoRegistrator;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;

/** Registers every class of ours that travels between Spark JVMs, so Kryo writes ids, not names. */
public class PerlKryoRegistrator implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    // Any record (ours or a library's) goes through Java serialisation: Spark's Kryo cannot set
    // final record fields. Registration below still keeps class names off the wire for ours.
    kryo.addDefaultSerializer(Record.class, new JavaSerializer());
    for (Class<?> c : classes()) {
      if (c.isRecord() || JAVA_SERIALIZED.contains(c)) {
        // Spark's Kryo (4.x) cannot set final record fields; records are Serializable, so Java
        // serialisation inside Kryo is correct, and still registered (no class names on the wire).
        kryo.register(c, new JavaSerializer());
      } else {
        kryo.register(c);
      }
    }
  }

  /**
   * Serializable classes whose private object graph (nested records, BitSets, maps of private
   * classes) goes through Java serialisation as a whole: with spark.kryo.registrationRequired,
   * Kryo's field serialiser would need every private nested class registered. One per partition.
   */
  private static final Set<Class<?>> JAVA_SERIALIZED = Set.of(EvalAggregator.class);

  /**
   * Every class Kryo meets in perl jobs, also Spark's and the JDK's that Spark does not register
   * itself (found by running every subcommand on a cluster with spark.kryo.registrationRequired):
   * the SQL types of our schemas (in task results), and the HashSet the trainer broadcasts.
   * RolloutSummaries: the trainer's rollout task results (one per task, arrays of primitives and strings);
   * DetachedRows.RowValues: the trainer's prompts, shuffled once per stage to cut the Dataset's plan out of its tasks.
   * Rollout (cached as one array per task): the trainer's cached rollouts, serialised when a gradient task reads a slice cached on another executor.
   * Also used by a test that checks every listed class round-trips through Kryo.
   */
  public static Class<?>[] classes() {
    return new Class<?>[] {
      Sample.class, ImageRef.class, AnswerKind.class, RejectReason.class, Rejection.class,
      io.perlspark.model.train.GradientResult.class, io.perlspark.model.loss.LossStats.class,
      io.perlspark.model.train.SftStats.class, io.perlspark.common.eval.EvalAggregator.class,
      io.perlspark.common.eval.EvalRecord.class, io.perlspark.jobs.executor.PolicyRuntime.class,
      io.perlspark.jobs.prepare.InputProbe.FileProbe.class, io.perlspark.jobs.train.PromptVerdict.class,
      io.perlspark.jobs.train.RolloutSummaries.class, io.perlspark.jobs.rollout.Rollout.class, io.perlspark.jobs.rollout.Rollout[].class,
      DetachedRows.RowValues.class,
      byte[].class, byte[][].class, int[].class, int[][].class, float[].class, float[][].class,
      double[].class, long[].class, boolean[].class, String[].class,
      java.util.ArrayList.class, java.util.HashMap.class, java.util.LinkedHashMap.class, java.util.HashSet.class,
      ArrayType.class, DataTypes.BinaryType.getClass(), DataTypes.BooleanType.getClass(),
      DataTypes.FloatType.getClass()
    };
  }
}
