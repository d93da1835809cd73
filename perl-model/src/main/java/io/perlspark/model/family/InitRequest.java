package io.perlspark.model.family;

import java.nio.file.Path;

/**
 * What {@code perl init-model} asks a family to write: a seeded, randomly initialised checkpoint
 * folder in the family's public format, for users and tests without downloadable weights.
 *
 * @param config the family's model config file (e.g. a Hugging Face {@code config.json})
 * @param tokenizerFolder the folder holding the tokenizer and processor files to copy
 * @param out the (local) folder to write
 * @param dtype the weights' storage type: {@code bfloat16}, {@code float16} or {@code float32}
 * @param maxShardBytes weights are split into shards of at most this size (and an index)
 */
public record InitRequest(Path config, Path tokenizerFolder, Path out, long seed, String dtype, long maxShardBytes) {

  /** What was written. */
  public record Written(Path folder, long parameters, int files, long weightBytes) {}
}
