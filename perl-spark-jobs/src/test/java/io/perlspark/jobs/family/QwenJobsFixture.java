package io.perlspark.jobs.family;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.spark.SparkSessions;
import io.perlspark.jobs.synth.SynthJob;
import io.perlspark.model.checkpoint.ModelFolders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The shared setup of the Qwen2.5-VL job tests: the tiny fixture checkpoint as a complete model
 * folder (Qwen's real tokenizer and chat template, random weights), a small synthetic dataset, a
 * run config for local[2], and a model cache of the test's own.
 */
public final class QwenJobsFixture {
  /** The fixture folder of perl-model's tests (the reactor runs tests in the module folder). */
  static final Path FIXTURES = Path.of("..", "perl-model", "src", "test", "resources", "qwen25vl");

  private QwenJobsFixture() {}

  /** The tiny tied-head checkpoint with tokenizer.json, as a Hub folder at {@code to}. */
  public static Path copyTinyModel(Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(FIXTURES.resolve("tiny-tied"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().endsWith(".txt")
            && !f.getFileName().toString().equals("config.hub-style.json")) {
          Files.copy(f, to.resolve(f.getFileName()));
        }
      }
    }
    Files.copy(FIXTURES.resolve("tokenizer.json"), to.resolve("tokenizer.json"));
    return to;
  }

  /**
   * Copies the model to {@code dir/qwen-tiny}, points the model cache into {@code dir}, writes a
   * small synthetic dataset to {@code dir/synth} and a 2-step run config; returns the config.
   *
   * @param modelKeys extra keys of the {@code model} section (e.g. a LoRA setting), or ""
   * @param rolloutAndTrainer the {@code rollout} and {@code trainer} lines
   */
  static Path prepare(Path dir, String name, String modelKeys, String... rolloutAndTrainer) throws IOException {
    Path model = copyTinyModel(dir.resolve("qwen-tiny"));
    System.setProperty(ModelFolders.CACHE_PROPERTY, dir.resolve("model-cache").toString());
    SparkSession spark = SparkSessions.create(name, "local[2]");
    try {
      SynthJob.run(spark, SynthOptions.defaults(), 5, new SynthJob.Sizes(8, 4, 64),
          dir.resolve("synth").toString(), 2, false);
    } finally {
      spark.stop();
    }
    Path config = dir.resolve(name + ".yaml");
    StringBuilder yaml = new StringBuilder();
    yaml.append("run: {name: ").append(name).append(", seed: 11, outputDir: ").append(dir.resolve("run")).append("}\n");
    // A URI, as for hdfs:// or s3a://: every JVM reads it through Hadoop into its model cache.
    yaml.append("model: {family: qwen2_5_vl, path: '").append(model.toUri()).append("', maxSeqLen: 256, device: cpu")
        .append(modelKeys.isEmpty() ? "" : ", " + modelKeys).append("}\n");
    for (String line : rolloutAndTrainer) {
      yaml.append(line).append('\n');
    }
    // Keep every group, so that a step without reward variance still updates (exit 0).
    yaml.append("filter: {online: {enabled: false}, offline: {rollouts: 2}}\n");
    yaml.append("eval: {permutationsPerSample: 2, maxSamples: 4}\n");
    yaml.append("stages:\n  - name: perl\n    steps: 2\n    data: [{path: ").append(dir.resolve("synth/train"))
        .append("}]\n");
    Files.writeString(config, yaml.toString());
    return config;
  }

  /** Undoes {@link #prepare}'s process-wide settings. */
  static void tearDown() {
    System.clearProperty(ModelFolders.CACHE_PROPERTY);
    SparkSession.getActiveSession().foreach(s -> {
      s.stop();
      return null;
    });
  }

  /**
   * The run's runtime after a Kryo round trip under the cluster templates'
   * spark.kryo.registrationRequired (how it reaches executors); asserts it comes back equal.
   */
  static PolicyRuntime kryoRoundTrip(Path config) {
    PolicyRuntime runtime = PolicyRuntime.from(ConfigLoader.load(config, List.of()).model(), 11);
    org.apache.spark.serializer.SerializerInstance kryo =
        new org.apache.spark.serializer.KryoSerializer(new org.apache.spark.SparkConf(false)
            .set("spark.kryo.registrationRequired", "true")
            .set("spark.kryo.registrator",
                io.perlspark.jobs.spark.PerlKryoRegistrator.class.getName())).newInstance();
    scala.reflect.ClassTag<Object> any = scala.reflect.ClassTag$.MODULE$.Any();
    PolicyRuntime back = (PolicyRuntime) kryo.deserialize(kryo.serialize(runtime, any), any);
    assertEquals(runtime, back);
    return back;
  }
}
