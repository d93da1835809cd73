package io.perlspark.jobs.cli;

import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.rollout.PolicyRuntime;
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
        "adapters' layout is known. No Spark work; the output folder must be local."})
final class ExportCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(names = "--checkpoint", required = true,
      description = "checkpoint folder (a run's folder, its checkpoints/, or one step-N/)")
  String checkpoint;

  @Option(names = {"-o", "--out"}, required = true, description = "the adapter folder to write")
  Path out;

  @Option(names = "--overwrite", description = "replace an existing non-empty folder")
  boolean overwrite;

  @Override
  public Integer call() throws IOException {
    PerlConfig cfg = config.load();
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
    PolicyRuntime runtime = PolicyRuntime.from(cfg.model(), cfg.run().seed());
    byte[] params = InitialParameters.load(checkpoint, "--checkpoint", runtime, new Configuration());
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
