package io.perlspark.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.model.checkpoint.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunProvenanceTest {
  @TempDir Path tmp;

  @Test
  void recordsTheModelFamily() {
    PerlConfig cfg = PerlConfig.defaults();
    Provenance p = RunProvenance.of(cfg, ConfigLoader.toYaml(cfg), new Configuration());
    assertEquals("builtin", p.environment().get(RunProvenance.MODEL_FAMILY));
    assertTrue(p.configText().contains("family: builtin"), p.configText());
    assertTrue(p.environment().containsKey("java.version"), "the JVM facts stay");
  }

  @Test
  void fingerprintsTheModelFolderOfAHubFamily() throws Exception {
    Path model = Files.createDirectories(tmp.resolve("qwen"));
    Files.writeString(model.resolve("config.json"), "{}");
    PerlConfig cfg =
        ConfigLoader.load(null, List.of("model.family=qwen2_5_vl", "model.path=" + model));
    Provenance p = RunProvenance.of(cfg, ConfigLoader.toYaml(cfg), new Configuration());
    assertEquals("qwen2_5_vl", p.environment().get(RunProvenance.MODEL_FAMILY));
    String fingerprint = p.datasetFingerprints().get("model.path:" + model);
    assertTrue(fingerprint != null && fingerprint.startsWith("files:1:sha256:"),
        String.valueOf(p.datasetFingerprints()));
  }

  /** A recipe whose base has the given fingerprint (null: its parameters stand alone). */
  static io.perlspark.model.family.ModelRecipe recipeWithBase(String fingerprint) {
    return (io.perlspark.model.family.ModelRecipe) java.lang.reflect.Proxy.newProxyInstance(
        RunProvenanceTest.class.getClassLoader(),
        new Class<?>[] {io.perlspark.model.family.ModelRecipe.class},
        (proxy, m, args) -> switch (m.getName()) {
          case "baseFingerprint" -> fingerprint;
          case "describe" -> "fake /models/now";
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }

  @Test
  void aCheckpointOfAnotherBaseIsRefusedNamingBoth() {
    PerlConfig cfg = ConfigLoader.load(null, List.of("model.family=qwen2_5_vl", "model.path=/models/then"));
    Provenance then = RunProvenance.of(cfg, ConfigLoader.toYaml(cfg), new Configuration(),
        recipeWithBase("sha256:aaa"));
    assertEquals("sha256:aaa", then.environment().get(RunProvenance.BASE_FINGERPRINT));
    assertEquals("/models/then", then.environment().get(RunProvenance.BASE_PATH));
    var c = new io.perlspark.model.checkpoint.Checkpoint(3, new byte[0],
        io.perlspark.model.learn.AdamW.State.zeros(0), java.util.Map.of(), then);
    RunProvenance.checkSameBase(c, recipeWithBase("sha256:aaa"), "model.init x", "advice");
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.perlspark.jobs.PerlUserException.class,
        () -> RunProvenance.checkSameBase(c, recipeWithBase("sha256:bbb"), "model.init x", "Do this."));
    assertEquals("model.init x: the checkpoint of step 3 holds adapters trained on the base model.path"
        + " /models/then (fingerprint sha256:aaa), but the current model, fake /models/now, has"
        + " fingerprint sha256:bbb; adapters only fit the base they were trained on. Do this.",
        e.getMessage());
    // a full fine-tune records no base, and its checkpoints load on any
    Provenance full = RunProvenance.of(cfg, ConfigLoader.toYaml(cfg), new Configuration(), recipeWithBase(null));
    assertEquals(null, full.environment().get(RunProvenance.BASE_FINGERPRINT));
    RunProvenance.checkSameBase(new io.perlspark.model.checkpoint.Checkpoint(3, new byte[0],
        io.perlspark.model.learn.AdamW.State.zeros(0), java.util.Map.of(), full),
        recipeWithBase("sha256:bbb"), "model.init x", "advice");
  }
}
