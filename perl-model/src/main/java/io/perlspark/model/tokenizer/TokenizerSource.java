package io.perlspark.model.tokenizer;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * A serializable description of a tokenizer, to be opened again in another JVM (a Spark executor).
 *
 * <p>For a Hugging Face tokenizer the JSON itself travels, not its path, so executors do not need
 * the driver's file system.
 *
 * @param kind which implementation
 * @param builtinWords the word list of a {@link Kind#BUILTIN} tokenizer (empty otherwise)
 * @param tokenizerJson the content of tokenizer.json of a {@link Kind#HUGGING_FACE} tokenizer
 *     (empty otherwise)
 * @param origin where it came from, for messages (e.g. the file path)
 */
public record TokenizerSource(
    Kind kind, List<String> builtinWords, String tokenizerJson, String origin)
    implements Serializable {

  /** The tokenizer implementations. */
  public enum Kind {
    BUILTIN,
    HUGGING_FACE
  }

  public TokenizerSource {
    Objects.requireNonNull(kind, "kind");
    builtinWords = builtinWords == null ? List.of() : List.copyOf(builtinWords);
    tokenizerJson = tokenizerJson == null ? "" : tokenizerJson;
    origin = origin == null ? "" : origin;
  }

  /** Opens a tokenizer equal to the one this source was taken from. */
  public TextTokenizer open() {
    return switch (kind) {
      case BUILTIN -> WordTokenizer.of(builtinWords);
      case HUGGING_FACE -> HfTokenizer.fromJson(tokenizerJson, origin);
    };
  }
}
