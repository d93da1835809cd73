package io.perlspark.jobs.train;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.jobs.synth.SynthJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** A tiny but real training setup: synthetic data, a briefly warm-started policy, a 4-step run. */
public final class TrainFixture {
  public final Path dir;
  public final Path config;

  public TrainFixture(SparkSession spark, Path dir) throws IOException {
    this.dir = dir;
    SynthJob.run(spark, SynthOptions.defaults().toBuilder().setTrainPositionBias(0.8).build(), 3,
        new SynthJob.Sizes(200, 27, 400), dir.resolve("synth").toString(), 2, false);
    config = dir.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "run: {name: test, seed: 11, outputDir: " + dir.resolve("run") + "}",
        "rollout: {n: 4, maxNewTokens: 24}",
        "trainer: {lr: 3.0e-4, promptBatch: 4, miniBatch: 2, microBatch: 8, checkpointEvery: 1, evalEvery: 0}",
        "filter: {online: {maxFillAttempts: 2}}",
        "stages:",
        "  - name: perl",
        "    steps: 4",
        "    data: [{path: " + dir.resolve("synth/train") + "}]",
        ""));
    // A short warm start, so that rewards vary and updates happen.
    new SftTrainer(spark, load(List.of()), new SftTrainer.Options(dir.resolve("synth/sft").toString(),
        dir.resolve("sft").toString(), 30, 32, 3e-3, 3, 30, false)).run();
  }

  public PerlConfig load(List<String> overrides) {
    List<String> all = new java.util.ArrayList<>(overrides);
    if (Files.exists(dir.resolve("sft/checkpoints"))) {
      all.add(0, "model.init=" + dir.resolve("sft/checkpoints"));
    }
    return ConfigLoader.load(config, all);
  }
}
