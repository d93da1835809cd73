package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static PerlConfig yaml(String text, String... overrides) {
    return ConfigLoader.fromYamlString(text, List.of(overrides));
  }

  private static PerlConfig overrides(String... overrides) {
    return ConfigLoader.load(null, List.of(overrides));
  }

  private static ConfigException failsYaml(String text, String... overrides) {
    return assertThrows(ConfigException.class, () -> yaml(text, overrides));
  }

  private static ConfigException failsOverrides(String... overrides) {
    return assertThrows(ConfigException.class, () -> overrides(overrides));
  }

  private static final String ONE_STAGE =
      "stages:\n  - name: s1\n    steps: 10\n    data: [{path: d/train}]\n";

  @Test
  void noFileAndNoOverridesGivesDefaults() {
    assertEquals(PerlConfig.defaults(), ConfigLoader.load(null, List.of()));
    assertEquals(PerlConfig.defaults(), yaml(""));
  }

  @Test
  void fileMergesOntoDefaultsKeyByKey() {
    PerlConfig c = yaml("trainer:\n  lr: 3e-4\nrollout:\n  n: 8\n");
    assertEquals(3e-4, c.trainer().lr());
    assertEquals(8, c.rollout().n());
    // untouched siblings keep their defaults
    assertEquals(0.01, c.trainer().weightDecay());
    assertEquals(1.0, c.rollout().temperature());
    assertEquals(ModelConfig.defaults(), c.model());
  }

  @Test
  void scalarOverrides() {
    PerlConfig c =
        overrides("trainer.lr=2e-5", "run.seed=7", "run.name=my run", "permutation.enabled=false");
    assertEquals(2e-5, c.trainer().lr());
    assertEquals(7L, c.run().seed());
    assertEquals("my run", c.run().name());
    assertFalse(c.permutation().enabled());
  }

  @Test
  void nestedAndNullOverrides() {
    PerlConfig c =
        overrides(
            "filter.online.minGroupAcc=0.1",
            "filter.online.maxGroupAcc=0.9",
            "filter.offline.enabled=true",
            "algorithm.dualClip=null",
            "model.init=ckpt/sft");
    assertEquals(0.1, c.filter().online().minGroupAcc());
    assertEquals(0.9, c.filter().online().maxGroupAcc());
    assertTrue(c.filter().offline().enabled());
    assertNull(c.algorithm().dualClip());
    assertEquals("ckpt/sft", c.model().init());

    PerlConfig back = overrides("filter.online.minGroupAcc=0.1", "filter.online.minGroupAcc=null");
    assertNull(back.filter().online().minGroupAcc());
    // an empty value is YAML's null
    assertNull(overrides("algorithm.dualClip=").algorithm().dualClip());
  }

  @Test
  void laterOverrideWinsAndOverridesBeatTheFile() {
    PerlConfig c = yaml("trainer:\n  lr: 0.1\n", "trainer.lr=0.2", "trainer.lr=0.3");
    assertEquals(0.3, c.trainer().lr());
  }

  @Test
  void sectionOverrideMergesKeys() {
    PerlConfig c = overrides("rollout={n: 3, topP: 0.9}");
    assertEquals(3, c.rollout().n());
    assertEquals(0.9, c.rollout().topP());
    assertEquals(48, c.rollout().maxNewTokens());
  }

  @Test
  void listIndexOverridesInBothSyntaxes() {
    PerlConfig c =
        yaml(
            ONE_STAGE + "  - name: s2\n    steps: 5\n    data: [{path: a}, {path: b, weight: 2}]\n",
            "stages.0.steps=100",
            "stages[1].data[1].weight=3.5",
            "stages.1.data.0.path=a2");
    assertEquals(100, c.stages().get(0).steps());
    assertEquals(3.5, c.stages().get(1).data().get(1).weight());
    assertEquals("a2", c.stages().get(1).data().get(0).path());
    assertEquals(1.0, c.stages().get(1).data().get(0).weight());
  }

  @Test
  void listValuesAreParsedAsYamlAndItemsTakeDefaults() {
    PerlConfig c = overrides("eval.splits=[{path: a}, {path: b, weight: 2}]");
    assertEquals(List.of(new DataSource("a", 1.0), new DataSource("b", 2.0)), c.eval().splits());
  }

  @Test
  void stagesCanBeBuiltFromOverridesByAppending() {
    PerlConfig c =
        overrides(
            "stages.0.name=only",
            "stages.0.steps=20",
            "stages.0.data=[{path: d}]",
            "stages[1]={name: second, epochs: 1.5, data: [{path: e}]}");
    assertEquals(2, c.stages().size());
    assertEquals(StageConfig.ofSteps("only", 20, List.of(new DataSource("d"))), c.stages().get(0));
    assertEquals(1.5, c.stages().get(1).epochs());
  }

  @Test
  void indexBeyondTheEndIsAnError() {
    ConfigException e = failsYaml(ONE_STAGE, "stages.5.steps=1");
    assertEquals("stages[5]", e.key());
    assertTrue(e.getMessage().contains("out of range"), e.getMessage());
  }

  @Test
  void unknownKeyInFileNamesKeyWithSuggestion() {
    ConfigException e = failsYaml("trainer:\n  lrr: 0.1\n");
    assertEquals("trainer.lrr", e.key());
    assertEquals("trainer.lrr: unknown key (did you mean trainer.lr?)", e.getMessage());
  }

  @Test
  void unknownTopLevelAndDeepKeys() {
    ConfigException e = failsYaml("trainr:\n  lr: 0.1\n" + ONE_STAGE + "    stepz: 3\n");
    assertEquals(List.of("trainr", "stages[0].stepz"), e.keys());
    assertTrue(e.getMessage().contains("did you mean trainer?"), e.getMessage());
    assertTrue(e.getMessage().contains("did you mean stages[0].steps?"), e.getMessage());
  }

  @Test
  void unknownKeyWithoutCloseMatchListsTheKeys() {
    ConfigException e = failsYaml("reward:\n  banana: 1\n");
    assertEquals("reward.banana", e.key());
    assertTrue(e.getMessage().contains("accuracyWeight, formatWeight, format"), e.getMessage());
  }

  @Test
  void unknownKeyInOverrideNamesTheOverride() {
    ConfigException e = failsOverrides("trainer.lrr=1e-5");
    assertEquals("trainer.lrr", e.key());
    assertTrue(e.getMessage().contains("did you mean trainer.lr?"), e.getMessage());
    assertTrue(e.getMessage().contains("trainer.lrr=1e-5"), e.getMessage());

    ConfigException deep = failsOverrides("filter.onlin.enabled=false");
    assertEquals("filter.onlin", deep.key());
    assertTrue(deep.getMessage().contains("did you mean filter.online?"), deep.getMessage());

    ConfigException inValue = failsOverrides("rollout={n: 3, tmperature: 0.5}");
    assertEquals("rollout.tmperature", inValue.key());
    assertTrue(inValue.getMessage().contains("did you mean rollout.temperature?"));
  }

  @Test
  void malformedOverrides() {
    ConfigException noEquals = failsOverrides("trainer.lr");
    assertEquals("trainer.lr", noEquals.key());
    assertTrue(noEquals.getMessage().contains("'trainer.lr'"), noEquals.getMessage());
    assertTrue(noEquals.getMessage().contains("key.path=value"), noEquals.getMessage());

    ConfigException badKey = failsOverrides("trainer..lr=1");
    assertTrue(badKey.getMessage().contains("'trainer..lr=1'"), badKey.getMessage());

    ConfigException scalarHasNoKeys = failsOverrides("trainer.lr.x=1");
    assertEquals("trainer.lr.x", scalarHasNoKeys.key());

    ConfigException listNeedsIndex = failsOverrides("eval.splits.path=a");
    assertTrue(listNeedsIndex.getMessage().contains("eval.splits[0]"), listNeedsIndex.getMessage());
  }

  @Test
  void wrongScalarTypesAreNamedAndAllReported() {
    ConfigException e =
        failsYaml(
            "rollout:\n  n: six\n  temperature: hot\npermutation:\n  enabled: maybe\n"
                + "run:\n  seed: 1.5\n");
    assertEquals(
        List.of(
            "rollout.n: 'six' is not a valid integer",
            "rollout.temperature: 'hot' is not a valid number",
            "permutation.enabled: 'maybe' is not a valid boolean (true or false)",
            "run.seed: 1.5 is not a valid integer"),
        e.problems().stream().map(ConfigException.Problem::toString).toList());
    assertEquals("rollout.n", e.key());
  }

  @Test
  void wrongTypeInOverride() {
    ConfigException e = failsOverrides("rollout.n=six");
    assertEquals("rollout.n", e.key());
    assertTrue(e.getMessage().startsWith("rollout.n: 'six' is not a valid integer"));
  }

  @Test
  void wrongShapesAreNamed() {
    ConfigException e =
        failsYaml("filter: 3\nstages: {name: x}\nrollout:\n  n: [1, 2]\ntrainer:\n  lr: null\n");
    assertEquals(List.of("filter", "stages", "rollout.n", "trainer.lr"), e.keys());
    assertTrue(e.getMessage().contains("filter: 3 is not allowed; expected a section"));
    assertTrue(e.getMessage().contains("trainer.lr: null is not allowed; expected a number"));
  }

  @Test
  void nullSectionIsAllowedOnlyForStageOverrides() {
    PerlConfig c = yaml(ONE_STAGE + "    permutation: null\n");
    assertNull(c.stages().get(0).permutation());
    ConfigException e = failsYaml("permutation: null\n");
    assertEquals("permutation", e.key());
  }

  @Test
  void yamlSyntaxErrorNamesFileAndLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "run:\n  name: x\ntrainer:\n  lr: [1, 2\n  weightDecay: 0\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(file, List.of()));
    assertTrue(e.getMessage().startsWith(file + ":"), e.getMessage());
    assertTrue(e.getMessage().contains("invalid YAML"), e.getMessage());
    int line =
        Integer.parseInt(e.getMessage().substring(file.toString().length() + 1).split(":")[0]);
    assertTrue(line >= 4 && line <= 6, e.getMessage());
  }

  @Test
  void tabIndentationErrorNamesLine() {
    ConfigException e = failsYaml("run:\n  name: x\n\tseed: 3\n");
    assertTrue(e.getMessage().startsWith("<string>:3:"), e.getMessage());
  }

  @Test
  void duplicateKeyIsAnError() {
    ConfigException e = failsYaml("trainer:\n  lr: 0.1\n  lr: 0.2\n");
    assertTrue(e.getMessage().contains("lr"), e.getMessage());
    assertTrue(e.getMessage().contains("duplicate"), e.getMessage());
  }

  @Test
  void topLevelMustBeAMapping() {
    ConfigException e = failsYaml("- a\n- b\n");
    assertTrue(e.getMessage().contains("top level must be a mapping"), e.getMessage());
  }

  @Test
  void missingFileIsNamed() {
    Path missing = Path.of("no/such/file.yaml");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, List.of()));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }

  @Test
  void structuralAndValidationProblemsAreReportedTogether() {
    ConfigException e = failsYaml("trainer:\n  lrr: 1\n  lr: -0.001\n", "rollout.n=0");
    assertEquals(List.of("trainer.lrr", "rollout.n", "trainer.lr"), e.keys());
    assertTrue(e.getMessage().contains("trainer.lr: -0.001 is not allowed; must be > 0"));
    assertTrue(e.getMessage().contains("rollout.n: 0 is not allowed; must be >= 1"));
  }

  @Test
  void resolvedTreeShowsMergedValues() {
    ObjectNode tree = ConfigLoader.loadResolvedTree(null, List.of("trainer.lr=0.5"));
    assertEquals(0.5, tree.at("/trainer/lr").doubleValue());
    assertEquals(6, tree.at("/rollout/n").intValue());
  }

  @Test
  void editDistanceAndSuggestions() {
    assertEquals(0, ConfigLoader.editDistance("abc", "abc"));
    assertEquals(1, ConfigLoader.editDistance("lrr", "lr"));
    assertEquals(3, ConfigLoader.editDistance("kitten", "sitting"));
    assertEquals(
        "miniBatch", ConfigLoader.closest("minibatch", List.of("microBatch", "miniBatch")));
    assertNull(ConfigLoader.closest("banana", List.of("lr", "eps")));
  }
}
