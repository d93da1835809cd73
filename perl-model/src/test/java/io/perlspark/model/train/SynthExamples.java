package io.perlspark.model.train;

import io.perlspark.common.data.Sample;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.model.family.PromptProcessor;
import io.perlspark.model.family.builtin.BuiltinFamily;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Test helpers: samples of the synthetic benchmark (or any sample with image bytes) as model inputs. */
public final class SynthExamples {
  private SynthExamples() {}

  /** The words of the synthetic benchmark that the word tokenizer can hold (see {@link BuiltinFamily}). */
  public static List<String> wordTokenizerVocabulary() {
    return BuiltinFamily.wordTokenizerVocabulary();
  }

  /** The word tokenizer of the synthetic benchmark (see {@link #wordTokenizerVocabulary()}). */
  public static WordTokenizer tokenizer() {
    return WordTokenizer.of(wordTokenizerVocabulary());
  }

  /** The sample's prompt as the model's family processes it (its images must carry bytes). */
  public static PolicyInput prompt(Sample sample, PromptProcessor processor) {
    Objects.requireNonNull(sample, "sample");
    return processor.process(sample);
  }

  /** The response tokens of a text followed by eos (the policy should learn to stop). */
  public static int[] responseWithEos(String response, TextTokenizer tokenizer) {
    int[] body = tokenizer.encode(response);
    int[] out = Arrays.copyOf(body, body.length + 1);
    out[body.length] = tokenizer.eosId();
    return out;
  }

  /** A warm-start example: the item's prompt and its reference response (eos appended). */
  public static SftExample sft(SynthItem item, PromptProcessor processor, TextTokenizer tokenizer) {
    return new SftExample(
        prompt(item.sample(), processor),
        responseWithEos(item.referenceResponse(), tokenizer));
  }
}
