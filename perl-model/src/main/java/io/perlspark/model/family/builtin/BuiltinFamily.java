package io.perlspark.model.family.builtin;

import io.perlspark.common.config.ConfigException;
import io.perlspark.common.config.ModelConfig;
import io.perlspark.common.synth.SyntheticBenchmark;
import io.perlspark.model.family.ModelFamily;
import io.perlspark.model.family.RecipeContext;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.TokenizerSource;
import io.perlspark.model.tokenizer.Tokenizers;
import io.perlspark.model.tokenizer.WordTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code model.family: builtin}: the tiny {@link TinyVlm}, sized by the {@code model.*} size keys,
 * with the synthetic benchmark's word tokenizer ({@code model.tokenizer: builtin}) or a Hugging Face
 * tokenizer.json, and fixed-size images ({@link BuiltinPromptProcessor}).
 */
public final class BuiltinFamily implements ModelFamily {
  public static final String NAME = ModelConfig.BUILTIN;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<ConfigException.Problem> validate(ModelConfig config) {
    String tokenizer = config.tokenizer();
    if (!isBuiltinTokenizer(tokenizer) && !Files.isRegularFile(Path.of(tokenizer))) {
      return List.of(
          new ConfigException.Problem(
              "model.tokenizer",
              "'" + tokenizer + "' is not a file; give builtin or the path of a tokenizer.json"));
    }
    return List.of();
  }

  @Override
  public BuiltinRecipe recipe(ModelConfig config, RecipeContext context) {
    TokenizerSource source = tokenizerSource(config.tokenizer());
    int vocab;
    try (TextTokenizer t = source.open()) {
      vocab = t.vocabSize();
    } catch (RuntimeException e) {
      throw new ConfigException("model.tokenizer", e.getMessage());
    } catch (Exception e) { // close() of an AutoCloseable
      throw new ConfigException("model.tokenizer", e.toString());
    }
    ModelSpec spec;
    try {
      spec =
          new ModelSpec(
              vocab, config.imageSize(), config.patchSize(), config.channels(), config.dModel(),
              config.layers(), config.heads(), config.ffnMult(), config.maxSeqLen(), false);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("model", e.getMessage());
    }
    return new BuiltinRecipe(spec, source, context.initSeed());
  }

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
    List<String> words = new java.util.ArrayList<>();
    for (String w : SyntheticBenchmark.vocabulary()) {
      List<String> split = WordTokenizer.split(w);
      if (split.size() == 1 && split.get(0).equals(w)) {
        words.add(w);
      }
    }
    return words;
  }

  private static boolean isBuiltinTokenizer(String tokenizer) {
    return tokenizer.equals(Tokenizers.BUILTIN);
  }

  /** The tokenizer as it travels to executors: the word list, or tokenizer.json's content. */
  private static TokenizerSource tokenizerSource(String tokenizer) {
    if (isBuiltinTokenizer(tokenizer)) {
      return new TokenizerSource(
          TokenizerSource.Kind.BUILTIN, wordTokenizerVocabulary(), "", "builtin");
    }
    Path p = Path.of(tokenizer);
    try {
      return new TokenizerSource(
          TokenizerSource.Kind.HUGGING_FACE, null, Files.readString(p), p.toString());
    } catch (IOException e) {
      throw new ConfigException("model.tokenizer", "cannot read " + p + ": " + e.getMessage());
    }
  }
}
