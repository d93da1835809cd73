package io.perlspark.model.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back, with the special tokens the policy needs.
 *
 * <p>A tokenizer itself need not be {@link java.io.Serializable} (the Hugging Face one wraps a
 * native handle); what travels between Spark JVMs is its {@link #source()}, from which every JVM
 * opens its own copy.
 */
public interface TextTokenizer extends AutoCloseable {

  /** Token ids of a text; no special tokens are added (no bos, no eos). */
  int[] encode(String text);

  /** The text of token ids; pad ids are skipped, every other id (eos included) is rendered. */
  String decode(int[] ids);

  /** Number of ids: every id is in {@code [0, vocabSize())}. */
  int vocabSize();

  int padId();

  int bosId();

  int eosId();

  /** The id of the {@code <image>} placeholder that marks where an image's patches go. */
  int imageId();

  /** The id of one token, if the vocabulary has it. */
  OptionalInt id(String token);

  /** Everything needed to open an equal tokenizer in another JVM. */
  TokenizerSource source();

  /** Releases native resources, if any; the default has none. */
  @Override
  default void close() {}
}
