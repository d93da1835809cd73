package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shipped config files: conf/perl-reference.yaml and conf/demo.yaml. */
class ConfigFilesTest {

  /** conf/ of the repository, found upwards from the module directory surefire runs in. */
  static Path conf(String name) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path candidate = dir.resolve("conf").resolve(name);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
      dir = dir.getParent();
    }
    throw new AssertionError("conf/" + name + " not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void referenceFileIsExactlyTheDefaults() {
    assertEquals(PerlConfig.defaults(), ConfigLoader.load(conf("perl-reference.yaml"), List.of()));
  }

  @Test
  void referenceFileSpellsOutEveryKey() throws IOException {
    JsonNode file = new YAMLMapper().readTree(Files.readString(conf("perl-reference.yaml")));
    JsonNode defaults = new ObjectMapper().valueToTree(PerlConfig.defaults());
    List<String> missing = new ArrayList<>();
    missingKeys(defaults, file, "", missing);
    assertEquals(
        List.of(), missing, "keys of PerlConfig.defaults() absent from the reference file");
  }

  private static void missingKeys(
      JsonNode expected, JsonNode actual, String path, List<String> out) {
    Iterator<String> names = expected.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      String key = path.isEmpty() ? name : path + "." + name;
      if (actual == null || !actual.has(name)) {
        out.add(key);
      } else if (expected.get(name).isObject()) {
        missingKeys(expected.get(name), actual.get(name), key, out);
      }
    }
  }

  @Test
  void referenceSettingsOfThePaper() {
    PerlConfig d = PerlConfig.defaults();
    assertEquals(6, d.rollout().n());
    assertEquals(128, d.trainer().promptBatch());
    assertEquals(64, d.trainer().miniBatch());
    assertEquals(0.01, d.algorithm().klCoef());
    assertEquals("low_var_kl", d.algorithm().klEstimator());
    assertEquals(0.2, d.algorithm().clipLow());
    assertEquals(0.2, d.algorithm().clipHigh());
    assertEquals(3.0, d.algorithm().dualClip());
    assertEquals("token-mean", d.algorithm().lossAgg());
    assertEquals(1e-6, d.trainer().lr());
    assertEquals(0.01, d.trainer().weightDecay());
    assertEquals(1.0, d.trainer().gradClip());
    assertEquals(1.0, d.rollout().temperature());
    assertEquals(new RewardConfig(0.9, 0.1, "think-boxed"), d.reward());
  }

  @Test
  void demoFileLoadsWithTheCalibratedSettings() {
    PerlConfig c = ConfigLoader.load(conf("demo.yaml"), List.of());
    assertEquals(8, c.rollout().n());
    assertEquals(32, c.rollout().maxNewTokens());
    assertEquals(32, c.trainer().promptBatch());
    assertEquals(16, c.trainer().miniBatch());
    assertEquals(16, c.trainer().microBatch());
    assertEquals(1e-4, c.trainer().lr());
    assertEquals("constant", c.permutation().schedule());
    assertTrue(c.filter().offline().enabled());
    assertEquals(0.01, c.algorithm().klCoef());
    assertEquals(25, c.trainer().checkpointEvery());
    assertEquals(50, c.trainer().evalEvery());
    assertEquals("runs/demo", c.run().outputDir());
    StageConfig stage = c.requireStages().get(0);
    assertEquals(1, c.stages().size());
    assertEquals(
        StageConfig.ofSteps("perl", 150, List.of(new DataSource("data/synth/train"))), stage);
    assertEquals(List.of(new DataSource("data/synth/eval")), c.eval().splits());
    // the demo's model is the calibrated tiny one
    assertEquals(ModelConfig.defaults(), c.model());
    assertNotNull(c.permutation());
    assertTrue(c.permutation().enabled());
  }

  @Test
  void demoFileTakesOverrides() {
    PerlConfig c =
        ConfigLoader.load(conf("demo.yaml"), List.of("stages[0].steps=10", "run.seed=3"));
    assertEquals(10, c.stages().get(0).steps());
    assertEquals(3L, c.run().seed());
  }
}
