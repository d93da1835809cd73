package io.perlspark.jobs.executor;

import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.family.RecipeContext;
import io.perlspark.model.policy.Devices;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.policy.Tf32;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;

/**
 * Everything an executor needs to build the policy (without its parameters, which travel as a
 * broadcast): the model family's recipe and the device preference. Serializable and small; equal
 * runtimes build interchangeable models, which is how executors know a cached model can be reused.
 *
 * @param recipe the model's family recipe (sizes, tokenizer, initial parameters or base weights)
 * @param device {@code model.device}: auto, cpu or gpu
 * @param tf32 {@code model.tf32}: every JVM that builds the model checks it can honour it
 */
public record PolicyRuntime(ModelRecipe recipe, String device, boolean tf32)
    implements Serializable {

  public PolicyRuntime {
    Objects.requireNonNull(recipe, "recipe");
    Objects.requireNonNull(device, "device");
  }

  /** A runtime without TF32. */
  public PolicyRuntime(ModelRecipe recipe, String device) {
    this(recipe, device, false);
  }

  /**
   * The runtime described by a run config: the family named by {@code model.family}, which checks
   * and reads the rest of {@code model.*}. Model files are read with the running Spark
   * application's Hadoop settings when there is one (so {@code spark.hadoop.*} apply).
   *
   * <p>This JVM's engine must be able to run the model as configured ({@link #checkEngine}):
   * e.g. {@code model.dtype: bfloat16} stops here, before any Spark work, on a JNI without bf16.
   *
   * @throws io.perlspark.common.config.ConfigException naming the key
   */
  public static PolicyRuntime from(ModelConfig m, long seed) {
    PolicyRuntime runtime = forFiles(m, seed);
    runtime.checkEngine();
    return runtime;
  }

  /**
   * As {@link #from} without the engine check: for work on the model's files only (perl export
   * merges on the CPU in float32 whatever {@code model.dtype} is).
   */
  public static PolicyRuntime forFiles(ModelConfig m, long seed) {
    RecipeContext.Builder context = RecipeContext.builder().optInitSeed(seed);
    context.optHadoopConfiguration(sparkHadoopConfiguration());
    return new PolicyRuntime(ModelFamilies.recipe(m, context.build()), m.device(), m.tf32());
  }

  /**
   * Stops when this JVM cannot run the model as configured: the recipe's engine needs
   * ({@link ModelRecipe#checkEngine}) and {@code model.tf32} ({@link Tf32#require}).
   *
   * @throws io.perlspark.common.config.ConfigException naming the key
   */
  public void checkEngine() {
    Tf32.require(tf32, System.getenv());
    recipe.checkEngine();
  }

  /**
   * The Hadoop configuration of this thread's (or the default) Spark session; before a session
   * exists (the CLI builds the runtime first, to fail fast), the {@code spark.hadoop.*} settings
   * that spark-submit passed as system properties, as Spark itself would apply them.
   */
  static Configuration sparkHadoopConfiguration() {
    scala.Option<SparkSession> session = SparkSession.getActiveSession();
    if (session.isEmpty()) {
      session = SparkSession.getDefaultSession();
    }
    if (session.isDefined()) {
      return session.get().sparkContext().hadoopConfiguration();
    }
    Configuration conf = new Configuration();
    for (scala.Tuple2<String, String> kv : new SparkConf().getAll()) {
      if (kv._1().startsWith(SPARK_HADOOP_PREFIX)) {
        conf.set(kv._1().substring(SPARK_HADOOP_PREFIX.length()), kv._2());
      }
    }
    return conf;
  }

  private static final String SPARK_HADOOP_PREFIX = "spark.hadoop.";

  /**
   * A fresh model (initial parameters) with its own tokenizer ({@link PolicyModel#tokenizer()}), on
   * the device Spark assigned to this task (or CPU).
   */
  public PolicyModel build() {
    Tf32.require(tf32, System.getenv()); // executors have their own environment
    return recipe.newModel(recipe.newTokenizer(), targetDevice());
  }

  /** The device {@link #build()} puts a model on, in this thread (task) now. */
  public ai.djl.Device targetDevice() {
    return Devices.choose(device, assignedGpu());
  }

  /**
   * The parameters of a fresh model ({@link PolicyModel#parametersToBytes()}); the model and its
   * tokenizer are closed again (a Hugging Face tokenizer holds native memory).
   */
  public byte[] initialParameters() {
    Tf32.require(tf32, System.getenv());
    try (TextTokenizer tokenizer = recipe.newTokenizer();
        PolicyModel fresh = recipe.newModel(tokenizer, Devices.choose(device, assignedGpu()))) {
      return fresh.parametersToBytes();
    }
  }

  /** The prompt processor that goes with a model from {@link #build()}. */
  public PromptProcessor promptProcessor(PolicyModel model) {
    return recipe.newPromptProcessor(model.tokenizer());
  }

  /**
   * Checks parameter bytes (a checkpoint's) against the configured model.
   *
   * @throws IllegalArgumentException saying what differs
   */
  public void checkParameters(byte[] parameters) {
    recipe.checkParameters(parameters);
  }

  /** The family's name, as in {@code model.family}. */
  public String family() {
    return recipe.familyName();
  }

  /** The GPU Spark assigned to the running task ({@code TaskContext.resources()}), if any. */
  static OptionalInt assignedGpu() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return OptionalInt.empty();
    }
    Map<String, ResourceInformation> res = tc.resourcesJMap();
    ResourceInformation gpu = res.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(gpu.addresses()[0]));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
