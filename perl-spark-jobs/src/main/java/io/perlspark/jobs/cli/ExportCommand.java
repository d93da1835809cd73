package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.PerlUserException;
import io.perlspark.jobs.executor.PolicyRuntime;
import io.perlspark.jobs.train.InitialParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a LoRA run's checkpoint as a PEFT adapter folder.",
        "",
        "The folder (adapter_config.json, adapter_model.safetensors;",
        "base_model_name_or_path = model.path) loads in PEFT, transformers and vLLM on",
        "top of the base model. Give the run's config (model.lora.enabled: true) so the",
        "adapters' layout is known. With --merge, writes instead the base model with",
        "the adapters merged into its weights: a full Hub folder (weights, config,",
        "tokenizer) that needs no PEFT. No Spark work; the output folder must be local."})
final class ExportCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(names = "--checkpoint", required = true,
      description = "checkpoint folder (a run's folder, its checkpoints/, or one step-N/)")
  String checkpoint;

  @Option(names = {"-o", "--out"}, required = true, description = "the adapter folder to write")
  Path out;

  @Option(names = "--overwrite", description = "replace an existing non-empty folder")
  boolean overwrite;

  @Option(names = "--merge",
      description = "write the base with the adapters merged in (a full model folder)")
  boolean merge;

  @Option(names = "--dtype",
      description = "with --merge: storage type bfloat16 | float16 | float32 (default: the base's)")
  String dtype;

  @Option(names = "--max-shard-size", defaultValue = "5GB",
      description = "with --merge: largest weight file, e.g. 2GB (default: ${DEFAULT-VALUE})")
  String maxShardSize;

  @Override
  public Integer call() throws IOException {
    PerlConfig cfg = config.load();
    if (!merge && dtype != null) {
      throw new PerlUserException("--dtype applies to --merge only (adapters are written float32)");
    }
    if (dtype != null && !java.util.List.of("bfloat16", "float16", "float32").contains(dtype)) {
      throw new PerlUserException("--dtype " + dtype + ": allowed: bfloat16, float16, float32");
    }
    long shardBytes = InitModelCommand.parseSize(maxShardSize);
    if (!cfg.model().loraEnabled()) {
      throw new PerlUserException("model.lora.enabled is false in the run config: perl export"
          + " writes LoRA adapters; give the config of the LoRA run (or model.lora.enabled=true)");
    }
    if (Files.isDirectory(out) && !overwrite) {
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new PerlUserException("--out " + out + " exists and is not empty; pass --overwrite"
              + " to replace it");
        }
      }
    }
    // files only: the merge runs on the CPU in float32, whatever model.dtype the run trained in
    PolicyRuntime runtime = PolicyRuntime.forFiles(cfg.model(), cfg.run().seed());
    byte[] params = InitialParameters.load(checkpoint, "--checkpoint", runtime, new Configuration());
    try {
      if (merge) {
        runtime.recipe().exportMerged(params, out, shardBytes, dtype);
        System.out.println("wrote the merged model (" + runtime.recipe().describe() + " + adapters)"
            + " to " + out);
        return 0;
      }
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    int modules;
    try {
      modules = runtime.recipe().exportAdapter(params, out);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      throw new PerlUserException(e.getMessage(), e);
    }
    System.out.printf(Locale.ROOT, "wrote a PEFT adapter (%d modules, r=%d, alpha=%s) to %s%n",
        modules, cfg.model().lora().rank(), cfg.model().lora().alpha(), out);
    return 0;
  }
}
