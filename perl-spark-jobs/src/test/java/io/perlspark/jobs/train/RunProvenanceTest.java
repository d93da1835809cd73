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
}
