package io.perlspark.jobs.rollout;

import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.train.SynthExamples;
import io.perlspark.jobs.cli.PerlUserException;
import io.perlspark.model.policy.Devices;
import io.perlspark.model.policy.ModelSpec;
import io.perlspark.model.policy.TinyVlm;
import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.TokenizerSource;
import io.perlspark.model.tokenizer.Tokenizers;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * Everything an executor needs to build the policy (without its parameters, which travel as a
 * broadcast): the model's sizes, the tokenizer and the device preference. Serializable and small.
 */
public record PolicyRuntime(ModelSpec spec, TokenizerSource tokenizer, String device, long initSeed)
    implements Serializable {

  /** The runtime described by a run config: tokenizer from {@code model.tokenizer}, sizes from {@code model.*}. */
  public static PolicyRuntime from(ModelConfig m, long seed) {
    TokenizerSource source;
    if (m.tokenizer().equals(Tokenizers.BUILTIN)) {
      source = new TokenizerSource(TokenizerSource.Kind.BUILTIN, SynthExamples.wordTokenizerVocabulary(), "", "builtin");
    } else {
      Path p = Path.of(m.tokenizer());
      try {
        source = new TokenizerSource(TokenizerSource.Kind.HUGGING_FACE, null, Files.readString(p), p.toString());
      } catch (java.io.IOException e) {
        throw new PerlUserException("model.tokenizer: cannot read " + p + ": " + e.getMessage(), e);
      }
    }
    int vocab;
    try (TextTokenizer t = source.open()) {
      vocab = t.vocabSize();
    } catch (Exception e) {
      throw new PerlUserException("model.tokenizer: " + e.getMessage(), e);
    }
    ModelSpec spec = new ModelSpec(vocab, m.imageSize(), m.patchSize(), m.channels(), m.dModel(), m.layers(), m.heads(),
        m.ffnMult(), m.maxSeqLen(), false);
    return new PolicyRuntime(spec, source, m.device(), seed);
  }

  /** A fresh model with seeded initial parameters on the device Spark assigned to this task (or CPU). */
  public TinyVlm build() {
    return TinyVlm.builder().setSpec(spec).setTokenizer(tokenizer.open())
        .optDevice(Devices.choose(device, assignedGpu())).optSeed(initSeed).build();
  }

  /** The GPU Spark assigned to the running task ({@code TaskContext.resources()}), if any. */
  static OptionalInt assignedGpu() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return OptionalInt.empty();
    }
    Map<String, ResourceInformation> res = tc.resourcesJMap();
    ResourceInformation gpu = res.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(gpu.addresses()[0]));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
