package io.perlspark.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.model.family.builtin.BuiltinPromptProcessor;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.common.synth.Family;
import io.perlspark.common.synth.Split;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SynthOptions;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SynthExamplesTest {

  @Test
  void vocabularyDropsOnlyTheUpperCaseLettersTheRuleFolds() {
    List<String> dropped = new ArrayList<>(SyntheticBenchmark.vocabulary());
    dropped.removeAll(SynthExamples.wordTokenizerVocabulary());
    assertEquals(List.of("A", "B", "C", "D", "E", "F", "G", "H", "I"), dropped);
    WordTokenizer t = SynthExamples.tokenizer();
    assertEquals(t.encode("a").length, 1);
    assertEquals(t.encode("A")[0], t.encode("a")[0]);
  }

  @Test
  void everyFamilyEncodesWithoutUnknownTokens() {
    SynthOptions all =
        SynthOptions.builder().setFamilyWeights(SynthOptions.uniformFamilyWeights()).build();
    SyntheticBenchmark bench = new SyntheticBenchmark(all, 3);
    WordTokenizer t = SynthExamples.tokenizer();
    for (int i = 0; i < 60; i++) {
      SynthItem item = bench.generate(Split.SFT, i);
      SftExample e = SynthExamples.sft(item, new BuiltinPromptProcessor(t, TrainFixtures.SPEC), t);
      for (int id : e.prompt().promptTokens()) {
        assertFalse(id == t.unkId(), item.sample().prompt());
      }
      for (int id : e.response()) {
        assertFalse(id == t.unkId(), item.referenceResponse());
      }
      assertEquals(t.eosId(), e.response()[e.response().length - 1]);
      assertEquals(item.sample().imageCount(), e.prompt().imageCount());
      assertEquals(TrainFixtures.SPEC.pixelsPerImage(), e.prompt().images()[0].length);
    }
  }

  @Test
  void anImageWithoutBytesIsNamed() {
    Sample s =
        new Sample("s-1", List.of(ImageRef.ofUri("img/a.png")), "<image> which ?", "1",
            io.perlspark.common.data.AnswerKind.IMAGE_INDEX, false, null, Family.WHICH_IMAGE.wireName(), null, null);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SynthExamples.prompt(
                    s, new BuiltinPromptProcessor(SynthExamples.tokenizer(), TrainFixtures.SPEC)));
    assertTrue(e.getMessage().contains("sample s-1: image 0 has no bytes"), e.getMessage());
  }
}
