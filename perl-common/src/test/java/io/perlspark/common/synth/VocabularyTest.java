package io.perlspark.common.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class VocabularyTest {

  @Test
  void theTokenPatternKeepsMarkupAtomicAndSplitsDigitsAndPunctuation() {
    assertEquals(List.of("<image>", "<image>", "which", "image", "shows", "a", "red", "circle", "?"),
        SyntheticBenchmark.tokenize("<image> <image> which image shows a red circle ?"));
    assertEquals(List.of("<think>", "img", "1", "red", "circle", "</think>", "\\boxed{", "2", ",", "3", ",", "1", "}"),
        SyntheticBenchmark.tokenize("<think> img1 red circle </think> \\boxed{2,3,1}"));
    assertEquals(List.of("1", "0", "<answer>", "B", "</answer>"), SyntheticBenchmark.tokenize("10<answer>B</answer>"));
    assertEquals(List.of("a", ":", "<image>", "b", ":", "<image>"), SyntheticBenchmark.tokenize("a:<image>\tb:\n<image>"));
    // Only the listed markup is atomic: anything else in angle brackets falls apart.
    assertEquals(List.of("<", "imagex", ">", "\\", "boxed", "}"), SyntheticBenchmark.tokenize("<imagex> \\boxed }"));
    // Unicode whitespace separates too (no-break space between the words).
    assertEquals(List.of("red", "circle"), SyntheticBenchmark.tokenize("red\u00a0circle"));
    assertEquals(List.of(), SyntheticBenchmark.tokenize(" \t\n "));
  }

  @Test
  void everyVocabularyEntryIsOneDistinctToken() {
    List<String> vocab = SyntheticBenchmark.vocabulary();
    assertEquals(vocab.size(), new HashSet<>(vocab).size(), "duplicates in " + vocab);
    for (String word : vocab) {
      assertEquals(List.of(word), SyntheticBenchmark.tokenize(word), "vocabulary entry " + word);
    }
  }

  /**
   * Every token of many generated prompts and responses, across all families, splits and image
   * counts up to the maximum, is in the vocabulary; and every vocabulary entry occurs, so the list
   * is neither incomplete nor padded.
   */
  @Test
  void generatedTextUsesExactlyTheVocabulary() {
    SynthOptions options = SynthOptions.builder()
        .setFamilyWeights(SynthOptions.uniformFamilyWeights())
        .setImageCountRange(2, SynthOptions.MAX_IMAGES)
        .build();
    SyntheticBenchmark bench = new SyntheticBenchmark(options, 77);
    Set<String> vocab = new LinkedHashSet<>(SyntheticBenchmark.vocabulary());
    Set<String> seen = new TreeSet<>();
    for (Split split : Split.values()) {
      for (long i = 0; i < 700; i++) {
        SynthItem item = bench.generate(split, i);
        for (String text : List.of(item.sample().prompt(), item.referenceResponse())) {
          for (String token : SyntheticBenchmark.tokenize(text)) {
            assertTrue(vocab.contains(token), "token '" + token + "' of '" + text + "' is not in the vocabulary");
            seen.add(token);
          }
        }
      }
    }
    Set<String> unused = new TreeSet<>(vocab);
    unused.removeAll(seen);
    assertEquals(Set.of(), unused, "vocabulary entries never generated");
  }

  @Test
  void theDefaultDemoNeedsOnlyAFewOfTheWords() {
    // which_image with 2–4 images: the calibration's setting (yes/no: the per-image verdicts).
    SyntheticBenchmark bench = new SyntheticBenchmark(SynthOptions.defaults(), 78);
    Set<String> seen = new TreeSet<>();
    for (long i = 0; i < 300; i++) {
      SynthItem item = bench.generate(Split.EVAL, i);
      seen.addAll(SyntheticBenchmark.tokenize(item.sample().prompt()));
      seen.addAll(SyntheticBenchmark.tokenize(item.referenceResponse()));
    }
    assertEquals(Set.of("<image>", "which", "image", "shows", "a", "?", "red", "green", "blue", "yellow",
        "circle", "square", "triangle", "<think>", "img", "1", "2", "3", "4", "yes", "no", "</think>", "\\boxed{",
        "}"), seen);
  }
}
