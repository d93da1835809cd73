package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PerlConfigValidationTest {

  private static ConfigException fails(String... overrides) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(overrides)));
  }

  private static PerlConfig load(String... overrides) {
    return ConfigLoader.load(null, List.of(overrides));
  }

  @Test
  void defaultsAreValid() {
    assertTrue(PerlConfig.defaults().problems().isEmpty());
    PerlConfig d = PerlConfig.defaults();
    assertSame(d, d.validate());
  }

  @Test
  void negativeLearningRateNamesTrainerLr() {
    ConfigException e = fails("trainer.lr=-0.001");
    assertEquals("trainer.lr", e.key());
    assertEquals("trainer.lr: -0.001 is not allowed; must be > 0", e.getMessage());
  }

  @Test
  void severalProblemsAreReportedTogetherOnePerLine() {
    ConfigException e =
        fails("trainer.lr=0", "rollout.temperature=-1", "algorithm.advantage=ppo", "model.heads=5");
    assertEquals(
        List.of("model.heads", "rollout.temperature", "algorithm.advantage", "trainer.lr"),
        e.keys());
    String[] lines = e.getMessage().split("\n");
    assertEquals(5, lines.length, e.getMessage());
    assertTrue(lines[0].startsWith("4 configuration problems"));
    assertEquals(
        "  algorithm.advantage: 'ppo' is not allowed; must be one of grpo | drgrpo", lines[3]);
  }

  @Test
  void generationAndScoringBatchesMustBePositive() {
    ConfigException e = fails("rollout.generationBatch=0", "rollout.scoringBatch=-2");
    assertEquals(List.of("rollout.generationBatch", "rollout.scoringBatch"), e.keys());
    assertTrue(e.getMessage().contains("rollout.generationBatch: 0"), e.getMessage());
    assertTrue(e.getMessage().contains("rollout.scoringBatch: -2"), e.getMessage());
  }

  @Test
  void evalSamplesPerCallMustBePositive() {
    ConfigException e = fails("eval.samplesPerCall=0");
    assertEquals(List.of("eval.samplesPerCall"), e.keys());
  }

  @Test
  void miniBatchMustDividePromptBatch() {
    ConfigException e = fails("trainer.miniBatch=48");
    assertEquals("trainer.miniBatch", e.key());
    assertEquals(
        "trainer.miniBatch: 48 is not allowed; must divide trainer.promptBatch (128)",
        e.getMessage());
    ConfigException bigger = fails("trainer.miniBatch=256");
    assertTrue(bigger.getMessage().contains("must be <= trainer.promptBatch (128)"));
    assertEquals(
        2, load("trainer.promptBatch=32", "trainer.miniBatch=16").trainer().updatesPerEpoch());
  }

  @Test
  void headsMustDivideDModelAndPatchMustDivideImage() {
    ConfigException e = fails("model.heads=3");
    assertEquals("model.heads: 3 is not allowed; must divide model.dModel (64)", e.getMessage());
    ConfigException p = fails("model.patchSize=5");
    assertEquals("model.patchSize", p.key());
    assertEquals(9, PerlConfig.defaults().model().patchesPerImage());
  }

  @Test
  void enumeratedValuesAreChecked() {
    ConfigException e =
        fails(
            "model.family=gpt",
            "model.device=tpu",
            "algorithm.klEstimator=k2",
            "algorithm.lossAgg=sum",
            "trainer.lrSchedule=step",
            "reward.format=json",
            "filter.online.metric=f1",
            "permutation.schedule=cubic");
    assertEquals(
        List.of(
            "model.family",
            "model.device",
            "algorithm.klEstimator",
            "algorithm.lossAgg",
            "trainer.lrSchedule",
            "reward.format",
            "filter.online.metric",
            "permutation.schedule"),
        e.keys());
    assertFalse(load("algorithm.advantage=drgrpo").algorithm().scaleByStd());
    assertTrue(PerlConfig.defaults().algorithm().scaleByStd());
  }

  @Test
  void rangesAreChecked() {
    ConfigException e =
        fails(
            "rollout.topP=0",
            "algorithm.clipLow=1",
            "algorithm.dualClip=1",
            "algorithm.klCoef=-0.1",
            "trainer.beta2=1",
            "trainer.gradClip=0",
            "trainer.minLrRatio=1.5",
            "trainer.evalEvery=-1",
            "eval.maxSamples=0");
    assertEquals(
        List.of(
            "rollout.topP",
            "algorithm.clipLow",
            "algorithm.dualClip",
            "algorithm.klCoef",
            "trainer.beta2",
            "trainer.gradClip",
            "trainer.minLrRatio",
            "trainer.evalEvery",
            "eval.maxSamples"),
        e.keys());
    // the boundaries that are allowed
    PerlConfig ok =
        load(
            "rollout.topP=1",
            "algorithm.clipLow=0",
            "algorithm.klCoef=0",
            "trainer.gradClip=null",
            "trainer.minLrRatio=1",
            "trainer.evalEvery=0",
            "permutation.copies=0");
    assertEquals(0.0, ok.algorithm().klCoef());
  }

  @Test
  void rewardWeightsMustNotBothBeZero() {
    ConfigException e = fails("reward.accuracyWeight=0", "reward.formatWeight=0");
    assertEquals("reward", e.key());
    load("reward.accuracyWeight=1", "reward.formatWeight=0");
  }

  @Test
  void filterBounds() {
    ConfigException online =
        fails("filter.online.minGroupAcc=0.8", "filter.online.maxGroupAcc=0.5");
    assertEquals(
        "filter.online.minGroupAcc: 0.8 is not allowed; must be <= filter.online.maxGroupAcc (0.5)",
        online.getMessage());
    ConfigException out = fails("filter.online.maxGroupAcc=1.5", "filter.online.maxFillAttempts=0");
    assertEquals(List.of("filter.online.maxGroupAcc", "filter.online.maxFillAttempts"), out.keys());

    ConfigException offline = fails("filter.offline.minAcc=0.5", "filter.offline.maxAcc=0.5");
    assertEquals("filter.offline.minAcc", offline.key());
    assertTrue(offline.getMessage().contains("inclusive is false"));
    load("filter.offline.minAcc=0.5", "filter.offline.maxAcc=0.5", "filter.offline.inclusive=true");
  }

  @Test
  void offlineFilterKeepsByPassRate() {
    OfflineFilterConfig exclusive = OfflineFilterConfig.defaults();
    assertFalse(exclusive.keeps(0.0));
    assertFalse(exclusive.keeps(1.0));
    assertTrue(exclusive.keeps(0.1));
    OfflineFilterConfig inclusive = new OfflineFilterConfig(true, 10, 0.2, 0.8, true);
    assertTrue(inclusive.keeps(0.2));
    assertTrue(inclusive.keeps(0.8));
    assertFalse(inclusive.keeps(0.9));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"all", "skip-first:0", "skip-first:1", "list:1,2", "list:0", "list:3,0,2"})
  void validSlots(String slots) {
    assertTrue(PermutationConfig.isValidSlots(slots));
    assertEquals(slots, load("permutation.slots=" + slots).permutation().slots());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "none",
        "ALL",
        "skip-first",
        "skip-first:",
        "skip-first:-1",
        "skip-first:x",
        "list:",
        "list:1,",
        "list:1,,2",
        "list:1, 2",
        "list:-1",
        "list:1,1",
        "list:a"
      })
  void invalidSlots(String slots) {
    assertFalse(PermutationConfig.isValidSlots(slots));
    ConfigException e = fails("permutation.slots='" + slots + "'");
    assertEquals("permutation.slots", e.key());
    assertTrue(e.getMessage().contains("skip-first:N"), e.getMessage());
  }

  @Test
  void permutationRanges() {
    ConfigException e =
        fails(
            "permutation.copies=-1",
            "permutation.p0=0.2",
            "permutation.pMin=0.5",
            "permutation.power=0");
    assertEquals(List.of("permutation.copies", "permutation.pMin", "permutation.power"), e.keys());
  }

  @Test
  void stageWithStepsAndEpochsBothSet() {
    ConfigException e = fails("stages.0={name: a, steps: 10, epochs: 1.0, data: [{path: d}]}");
    assertEquals("stages[0]", e.key());
    assertEquals("stages[0]: set exactly one of steps or epochs (both are set)", e.getMessage());
    ConfigException neither = fails("stages.0={name: a, data: [{path: d}]}");
    assertTrue(neither.getMessage().contains("neither is set"));
  }

  @Test
  void stageProblemsAreNamedByIndex() {
    ConfigException e =
        fails(
            "stages.0={name: a, steps: 0, data: [{path: d}]}",
            "stages.1={name: a, epochs: 2, data: [{path: ' '}, {path: e, weight: -1}]}",
            "stages.2={name: c, steps: 3}",
            "stages.3={steps: 3, data: [{path: f}]}");
    assertEquals(
        List.of(
            "stages[0].steps",
            "stages[1].data[0].path",
            "stages[1].data[1].weight",
            "stages[1].name",
            "stages[2].data",
            "stages[3].name"),
        e.keys());
    assertTrue(
        e.getMessage().contains("stages[1].name: 'a' is not allowed; duplicates stages[0].name"));
    assertTrue(e.getMessage().contains("stages[1].data[1].weight: -1 is not allowed; must be > 0"));
  }

  @Test
  void zeroStagesAreValidButTrainingRequiresThem() {
    PerlConfig c = load();
    assertTrue(c.stages().isEmpty());
    ConfigException e = assertThrows(ConfigException.class, c::requireStages);
    assertEquals("stages", e.key());
    PerlConfig one = load("stages.0={name: a, steps: 5, data: [{path: d}]}");
    assertEquals(1, one.requireStages().size());
    assertEquals("a", one.stage("a").name());
    assertEquals("stages", assertThrows(ConfigException.class, () -> one.stage("b")).key());
  }

  @Test
  void stageSectionsFallBackToTopLevel() {
    PerlConfig c =
        ConfigLoader.fromYamlString(
            String.join(
                "\n",
                "permutation:",
                "  copies: 2",
                "  slots: skip-first:1",
                "rollout:",
                "  n: 4",
                "stages:",
                "  - name: multi",
                "    steps: 10",
                "    data: [{path: m}]",
                "  - name: single",
                "    steps: 5",
                "    data: [{path: s}]",
                "    permutation: {enabled: false}",
                "    filter: {online: {enabled: false}}",
                ""),
            List.of("stages.0.rollout.temperature=0.7"));
    StageConfig multi = c.stages().get(0);
    StageConfig single = c.stages().get(1);

    assertSame(c.permutation(), multi.effectivePermutation(c));
    assertSame(c.filter(), multi.effectiveFilter(c));
    // a stage section given key by key keeps the other keys of the top-level section
    RolloutConfig multiRollout = multi.effectiveRollout(c);
    assertEquals(0.7, multiRollout.temperature());
    assertEquals(4, multiRollout.n());

    PermutationConfig p = single.effectivePermutation(c);
    assertFalse(p.enabled());
    assertEquals(2, p.copies());
    assertEquals("skip-first:1", p.slots());
    assertFalse(single.effectiveFilter(c).online().enabled());
    assertEquals(c.filter().offline(), single.effectiveFilter(c).offline());
    assertSame(c.rollout(), single.effectiveRollout(c));
  }

  @Test
  void topLevelOverridesReachStageSectionsThatOnlyChangeOtherKeys() {
    PerlConfig c =
        load(
            "stages.0={name: a, steps: 5, data: [{path: d}], permutation: {copies: 3}}",
            "permutation.schedule=exp");
    PermutationConfig p = c.stages().get(0).effectivePermutation(c);
    assertEquals(3, p.copies());
    assertEquals("exp", p.schedule());
  }

  @Test
  void stageSectionProblemsAreNamedWithTheStage() {
    ConfigException e = fails("stages.0={name: a, steps: 5, data: [{path: d}], rollout: {n: 0}}");
    assertEquals("stages[0].rollout.n", e.key());
    ConfigException unknown =
        fails("stages.0={name: a, steps: 5, data: [{path: d}], permutation: {copis: 3}}");
    assertEquals("stages[0].permutation.copis", unknown.key());
    assertTrue(unknown.getMessage().contains("did you mean stages[0].permutation.copies?"));
  }

  @Test
  void programmaticConfigsValidateToo() {
    PerlConfig bad =
        PerlConfig.defaults()
            .withStages(List.of(StageConfig.ofSteps("x", 10, List.of(new DataSource("d", 0)))));
    ConfigException e = assertThrows(ConfigException.class, bad::validate);
    assertEquals("stages[0].data[0].weight", e.key());
  }

  private static PerlConfig stage(String... overrides) {
    List<String> all = new java.util.ArrayList<>(List.of(overrides));
    return ConfigLoader.fromYamlString("stages: [{name: s, steps: 5, data: [{path: d}]}]", all);
  }

  @Test
  void settingsThatCannotLearnNameTheirKeys() {
    assertTrue(stage().learningProblems().isEmpty(), stage().learningProblems().toString());
    assertTrue(stage("rollout.n=1").learningProblems().isEmpty(), "n = 1 learns from the permuted copies");

    for (String off : List.of("permutation.enabled=false", "permutation.copies=0", "permutation.p0=0")) {
      List<ConfigException.Problem> p = stage("rollout.n=1", off).learningProblems();
      assertEquals(1, p.size(), off + ": " + p);
      assertEquals("rollout.n", p.get(0).key(), off);
    }
    List<ConfigException.Problem> slots = stage("permutation.slots=list:3").learningProblems();
    assertEquals(List.of("permutation.slots"), slots.stream().map(ConfigException.Problem::key).toList());
    assertTrue(stage("permutation.slots=list:1,3").learningProblems().isEmpty());
  }
}
