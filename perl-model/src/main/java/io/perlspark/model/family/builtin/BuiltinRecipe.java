package io.perlspark.model.family.builtin;

import ai.djl.Device;
import io.perlspark.model.family.ModelRecipe;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.TokenizerSource;
import java.util.Objects;

/**
 * How to build a run's {@link TinyVlm}: its sizes, its tokenizer (the source travels, so executors
 * need no file) and the seed of its initial parameters.
 *
 * @param spec the model's sizes (vocabSize equal to the tokenizer's)
 * @param tokenizer the tokenizer, as it travels between JVMs
 * @param initSeed seed of the parameter initialisation
 */
public record BuiltinRecipe(ModelSpec spec, TokenizerSource tokenizer, long initSeed)
    implements ModelRecipe {

  public BuiltinRecipe {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(tokenizer, "tokenizer");
  }

  @Override
  public String familyName() {
    return BuiltinFamily.NAME;
  }

  @Override
  public TextTokenizer newTokenizer() {
    return tokenizer.open();
  }

  @Override
  public TinyVlm newModel(TextTokenizer tokenizer, Device device) {
    return TinyVlm.builder()
        .setSpec(spec)
        .setTokenizer(tokenizer)
        .optDevice(device)
        .optSeed(initSeed)
        .build();
  }

  @Override
  public BuiltinPromptProcessor newPromptProcessor(TextTokenizer tokenizer) {
    return new BuiltinPromptProcessor(tokenizer, spec);
  }

  @Override
  public void checkParameters(byte[] parameters) {
    ModelSpec stored = TinyVlm.specOf(parameters);
    if (!stored.equals(spec)) {
      throw new IllegalArgumentException(
          "holds a model of sizes " + stored + " but the config asks for " + spec
              + " (model.* keys)");
    }
  }

  @Override
  public String describe() {
    return BuiltinFamily.NAME + " " + spec + " tokenizer=" + tokenizer.origin();
  }
}
