package io.perlspark.jobs.cli;

import io.perlspark.jobs.PerlUserException;
import io.perlspark.model.family.InitRequest;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.ModelFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init-model", mixinStandardHelpOptions = true,
    description = {"Writes a seeded, randomly initialised model folder in the Hub's format.",
        "",
        "For trying the real-model path without downloadable weights (tests, CI, a first",
        "run): the folder holds config.json, generation_config.json, the tokenizer and",
        "processor files, and safetensors weights under the Hub's key names, so",
        "model.path can point at it. No Spark work; the folder must be local."})
final class InitModelCommand implements Callable<Integer> {
  @Option(names = "--family", defaultValue = "qwen2_5_vl", description = "model family (default: ${DEFAULT-VALUE})")
  String family;

  @Option(names = "--config", required = true,
      description = "the family's model config, e.g. a Hugging Face config.json (conf/models/ has examples)")
  Path config;

  @Option(names = "--tokenizer-from", required = true,
      description = "folder with tokenizer.json (and tokenizer_config.json, chat_template.json, preprocessor_config.json)")
  Path tokenizerFrom;

  @Option(names = {"-o", "--out"}, required = true, description = "the model folder to write")
  Path out;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the weights (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--dtype", defaultValue = "bfloat16",
      description = "storage type of the weights: bfloat16 | float16 | float32 (default: ${DEFAULT-VALUE})")
  String dtype;

  @Option(names = "--max-shard-size", defaultValue = "5GB",
      description = "split the weights into shards of at most this size, e.g. 2GB, 500MB (default: ${DEFAULT-VALUE})")
  String maxShardSize;

  @Option(names = "--overwrite", description = "replace an existing non-empty folder")
  boolean overwrite;

  @Override
  public Integer call() throws IOException {
    ModelFamily f;
    try {
      f = ModelFamilies.forName(family);
    } catch (io.perlspark.common.config.ConfigException e) {
      throw new PerlUserException("--family " + family + ": " + e.getMessage(), e);
    }
    if (!java.util.List.of("bfloat16", "float16", "float32").contains(dtype)) {
      throw new PerlUserException("--dtype " + dtype + ": allowed: bfloat16, float16, float32");
    }
    if (!Files.isRegularFile(config)) {
      throw new PerlUserException("--config " + config + ": not a file");
    }
    if (!Files.isRegularFile(tokenizerFrom.resolve("tokenizer.json"))) {
      throw new PerlUserException("--tokenizer-from " + tokenizerFrom + ": no tokenizer.json there");
    }
    if (Files.isDirectory(out) && !overwrite) {
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new PerlUserException("--out " + out + " exists and is not empty; pass --overwrite to replace it");
        }
      }
    }
    InitRequest.Written w;
    try {
      w = f.initCheckpoint(new InitRequest(config, tokenizerFrom, out, seed, dtype, parseSize(maxShardSize)));
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    System.out.printf(Locale.ROOT, "wrote %,d parameters (%,.1f MB in %d weight file%s) to %s%n", w.parameters(),
        w.weightBytes() / 1e6, w.files(), w.files() == 1 ? "" : "s", w.folder());
    System.out.println("train it with: model.family=" + f.name() + " model.path=" + w.folder());
    return 0;
  }

  /** {@code 5GB}, {@code 500MB}, {@code 1024} (bytes); decimal units as transformers' max_shard_size. */
  static long parseSize(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT);
    long unit = 1;
    for (String[] u : new String[][] {{"GB", "1000000000"}, {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}}) {
      if (t.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length()).trim();
        break;
      }
    }
    try {
      long v = (long) (Double.parseDouble(t) * unit);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // the message below
    }
    throw new PerlUserException("--max-shard-size " + s + ": expected a size such as 5GB, 500MB or 1000000");
  }
}
