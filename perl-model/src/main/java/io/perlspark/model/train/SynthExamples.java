package io.perlspark.model.train;

import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import io.perlspark.common.synth.SynthItem;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.policy.ImagePixels;
import io.perlspark.model.policy.ModelSpec;
import io.perlspark.model.policy.PolicyInput;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Turns samples of the synthetic benchmark (or any sample with image bytes) into model inputs. */
public final class SynthExamples {
  private SynthExamples() {}

  /**
   * The words of {@link SyntheticBenchmark#vocabulary()} that {@link WordTokenizer} can hold.
   *
   * <p>The benchmark's vocabulary lists the upper-case option letters {@code A..I} separately
   * (its own token rule keeps case), but {@link WordTokenizer} lower-cases letters, so {@code
   * WordTokenizer.of(vocabulary())} is rejected. The rule maps {@code A} onto {@code a}, which the
   * vocabulary also lists, so dropping the upper-case forms loses no text: an option answer comes
   * back lower-case.
   */
  public static List<String> wordTokenizerVocabulary() {
    List<String> words = new ArrayList<>();
    for (String w : SyntheticBenchmark.vocabulary()) {
      List<String> split = WordTokenizer.split(w);
      if (split.size() == 1 && split.get(0).equals(w)) {
        words.add(w);
      }
    }
    return words;
  }

  /** The word tokenizer of the synthetic benchmark (see {@link #wordTokenizerVocabulary()}). */
  public static WordTokenizer tokenizer() {
    return WordTokenizer.of(wordTokenizerVocabulary());
  }

  /** The sample's prompt with its images decoded to the model's size and channels. */
  public static PolicyInput prompt(Sample sample, TextTokenizer tokenizer, ModelSpec spec) {
    Objects.requireNonNull(sample, "sample");
    List<float[]> images = new ArrayList<>(sample.imageCount());
    for (int i = 0; i < sample.images().size(); i++) {
      ImageRef ref = sample.images().get(i);
      if (!ref.hasBytes()) {
        throw new IllegalArgumentException(
            "sample " + sample.id() + ": image " + i + " has no bytes (uri " + ref.uri()
                + "); load the image bytes before building model inputs");
      }
      images.add(ImagePixels.decode(ref.bytes(), spec.imageSize(), spec.channels()));
    }
    return PolicyInput.of(tokenizer, sample.prompt(), images);
  }

  /** The response tokens of a text followed by eos (the policy should learn to stop). */
  public static int[] responseWithEos(String response, TextTokenizer tokenizer) {
    int[] body = tokenizer.encode(response);
    int[] out = Arrays.copyOf(body, body.length + 1);
    out[body.length] = tokenizer.eosId();
    return out;
  }

  /** A warm-start example: the item's prompt and its reference response (eos appended). */
  public static SftExample sft(SynthItem item, TextTokenizer tokenizer, ModelSpec spec) {
    return new SftExample(
        prompt(item.sample(), tokenizer, spec),
        responseWithEos(item.referenceResponse(), tokenizer));
  }
}
