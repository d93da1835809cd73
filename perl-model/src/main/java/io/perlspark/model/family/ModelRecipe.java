package io.perlspark.model.family;

import ai.djl.Device;
import io.perlspark.model.policy.PolicyModel;
import io.perlspark.model.tokenizer.TextTokenizer;
import java.io.Serializable;

/**
 * Everything a JVM needs to build one run's model of a family, except the trained parameters
 * (which travel separately as {@link PolicyModel#parametersToBytes()}): made on the driver by
 * {@link ModelFamily#recipe}, shipped to executors inside Spark closures, used there to build the
 * model, its tokenizer and its prompt processor.
 *
 * <p>Implementations are small immutable values (records): two equal recipes build models of the
 * same sizes with the same initial parameters, which is how executors know that a cached model can
 * be reused. A recipe carries no large weights; a family whose base weights live in files reads
 * them on the executor (once per JVM) from the recipe's location.
 */
public interface ModelRecipe extends Serializable {

  /** The family's name, as in {@code model.family}. */
  String familyName();

  /** Opens this model's tokenizer; the caller closes it (after the models built with it). */
  TextTokenizer newTokenizer();

  /**
   * A model with its initial parameters (seeded, or the family's pretrained weights) on {@code
   * device}. The model uses {@code tokenizer} (from {@link #newTokenizer()}) but does not close it.
   */
  PolicyModel newModel(TextTokenizer tokenizer, Device device);

  /** The input processing for this model, using {@code tokenizer} (from {@link #newTokenizer()}). */
  PromptProcessor newPromptProcessor(TextTokenizer tokenizer);

  /**
   * Checks that parameter bytes (e.g. from a checkpoint) are this family's and fit this recipe's
   * sizes, without building a model.
   *
   * @throws IllegalArgumentException saying what differs
   */
  void checkParameters(byte[] parameters);

  /**
   * Stops when this JVM's engine cannot run the model as configured (e.g. {@code model.dtype:
   * bfloat16} on a PyTorch JNI without bfloat16), before any work; runs on the driver before
   * Spark starts and before each model is built. Nothing to check by default.
   *
   * @throws io.perlspark.common.config.ConfigException naming the key
   */
  default void checkEngine() {}

  /**
   * Values in the whole model (trained or frozen), known without building it; -1 when the family
   * cannot tell cheaply. {@code perl train} refuses a full fine-tune above {@code
   * model.maxFullFineTuneParams} with it.
   */
  default long baseParameterCount() {
    return -1;
  }

  /**
   * A fingerprint of the base weights that this recipe's parameter bytes only make sense on (a LoRA
   * run's adapters need the base they were trained on), or null when the parameter bytes stand
   * alone (seeded models, full fine-tunes). Checkpoints record it; resuming or initialising from a
   * checkpoint whose fingerprint differs is refused. Cheap enough to compute per checkpoint.
   */
  default String baseFingerprint() {
    return null;
  }

  /** Whether the models of this recipe train LoRA adapters only ({@code model.lora.enabled}). */
  default boolean trainsLora() {
    return false;
  }

  /**
   * Writes the LoRA adapters held in parameter bytes of this recipe (a LoRA run's checkpoint) as a
   * PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors}, {@code
   * base_model_name_or_path} = the model's path) that PEFT, transformers and vLLM load on the base.
   *
   * @return the number of adapted modules written
   * @throws UnsupportedOperationException when this recipe trains no adapters
   * @throws IllegalArgumentException when the bytes are not this recipe's adapters
   */
  default int exportAdapter(byte[] parameters, java.nio.file.Path folder)
      throws java.io.IOException {
    throw new UnsupportedOperationException("model family " + familyName() + " with these settings"
        + " trains no LoRA adapters (model.lora.enabled is false): nothing to export as a PEFT"
        + " adapter");
  }

  /**
   * Writes the base model with the adapters of {@code parameters} merged into its weights ({@code
   * W + scale B A}) as a full Hub folder in the base's layout and storage types, with the base's
   * config, tokenizer and processor files: a model that needs no PEFT to load.
   *
   * @param maxShardBytes the largest weight file (the Hub's max_shard_size)
   * @param dtype storage type of the floating weights: {@code bfloat16}, {@code float16}, {@code
   *     float32}, or null for the base's own (a bfloat16 base rounds the merged weights, so the
   *     merged model then only approximates base + adapters)
   * @throws UnsupportedOperationException when this recipe trains no adapters
   * @throws IllegalArgumentException when the bytes are not this recipe's adapters
   */
  default void exportMerged(byte[] parameters, java.nio.file.Path folder, long maxShardBytes,
      String dtype) throws java.io.IOException {
    exportAdapter(parameters, folder); // refuses, as there are no adapters
  }

  /** One line naming the family and its sizes or source, for provenance and messages. */
  String describe();
}
