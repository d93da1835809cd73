package io.perlspark.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ConfigRoundTripTest {

  private static PerlConfig roundTrip(PerlConfig c) {
    return ConfigLoader.fromYamlString(ConfigLoader.toYaml(c), List.of());
  }

  private static PerlConfig rich() {
    PerlConfig base =
        ConfigLoader.load(
            null,
            List.of(
                "run.name='round trip: yes'",
                "run.seed=-9007199254740993",
                "model.init=ckpt/sft step=800",
                "algorithm.dualClip=null",
                "trainer.gradClip=null",
                "trainer.lr=1.2345e-7",
                "filter.online.minGroupAcc=0.125",
                "permutation.slots=list:2,0",
                "eval.maxSamples=900",
                "eval.splits=[{path: e1}, {path: e2, weight: 0.3}]"));
    return base.withStages(
        List.of(
            new StageConfig(
                "multi", 100, null, List.of(new DataSource("a", 2.5)), null, null, null),
            new StageConfig(
                "single",
                null,
                0.75,
                List.of(new DataSource("b")),
                new PermutationConfig(false, 0, "exp", 0.5, 0.1, 1.5, 3.0, "skip-first:1"),
                FilterConfig.defaults(),
                new RolloutConfig(2, 0.7, 0.95, 16, 64, 24, 12))));
  }

  @Test
  void defaultsRoundTrip() {
    assertEquals(PerlConfig.defaults(), roundTrip(PerlConfig.defaults()));
  }

  @Test
  void richConfigRoundTrips() {
    PerlConfig c = rich().validate();
    assertEquals(c, roundTrip(c));
  }

  @Test
  void javaSerializationPreservesTheConfig() throws IOException, ClassNotFoundException {
    PerlConfig c = rich();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(c, in.readObject());
    }
  }

  @Provide
  Arbitrary<String> awkwardStrings() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "null", "~", "true", "no", "yes", "1.10", "0x1F", "1e3", "- a", "a: b", "#x", "'q'",
            "\"dq\"", " lead", "trail ", "[1]", "{a: 1}", "*alias", "&anchor", "%", "@", "`"),
        // blank names are invalid, so they cannot come back through the validating loader
        Arbitraries.strings().ofMaxLength(30).filter(x -> !x.isBlank()));
  }

  @Property(tries = 200)
  void anyStringValueRoundTrips(@ForAll("awkwardStrings") String s) {
    PerlConfig c =
        PerlConfig.defaults()
            .withStages(List.of(StageConfig.ofSteps(s, 1, List.of(new DataSource(s, 1.0)))));
    assertEquals(c, roundTrip(c));
  }

  @Property(tries = 200)
  void anyDoubleRoundTrips(@ForAll double lr) {
    PerlConfig d = PerlConfig.defaults();
    TrainerConfig t = d.trainer();
    double value = Double.isFinite(lr) && lr > 0 ? lr : Math.abs(lr) % 1 + 1e-9;
    TrainerConfig changed =
        new TrainerConfig(
            value,
            t.weightDecay(),
            t.beta1(),
            t.beta2(),
            t.eps(),
            t.gradClip(),
            t.lrSchedule(),
            t.warmupSteps(),
            t.minLrRatio(),
            t.promptBatch(),
            t.miniBatch(),
            t.microBatch(),
            t.checkpointEvery(),
            t.keepCheckpoints(),
            t.evalEvery(),
            t.logRolloutsPerStep());
    PerlConfig c =
        new PerlConfig(
            d.run(),
            d.model(),
            d.rollout(),
            d.algorithm(),
            changed,
            d.reward(),
            d.filter(),
            d.permutation(),
            d.stages(),
            d.eval());
    assertEquals(c, roundTrip(c));
  }
}
