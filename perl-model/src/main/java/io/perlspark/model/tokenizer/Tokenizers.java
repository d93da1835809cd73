package io.perlspark.model.tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** Opens a tokenizer from a config value. */
public final class Tokenizers {
  /** The config value that selects the built-in {@link WordTokenizer}. */
  public static final String BUILTIN = "builtin";

  private Tokenizers() {}

  /**
   * Opens a tokenizer.
   *
   * @param spec {@code "builtin"} for the word tokenizer over {@code builtinWords}, otherwise the
   *     path of a local {@code tokenizer.json}
   * @param builtinWords the word list of the built-in tokenizer (ignored for a file)
   */
  public static TextTokenizer load(String spec, List<String> builtinWords) {
    Objects.requireNonNull(spec, "spec");
    if (spec.isBlank()) {
      throw new IllegalArgumentException(
          "tokenizer spec is empty; use \"builtin\" or the path of a tokenizer.json");
    }
    if (BUILTIN.equalsIgnoreCase(spec.trim())) {
      if (builtinWords == null || builtinWords.isEmpty()) {
        throw new IllegalArgumentException(
            "tokenizer \"builtin\" needs a word list, but none was given");
      }
      return WordTokenizer.of(builtinWords);
    }
    return HfTokenizer.load(Path.of(spec));
  }
}
