package io.perlspark.jobs.cli;

import io.perlspark.common.config.ConfigLoader;
import io.perlspark.common.config.PerlConfig;
import io.perlspark.jobs.PerlUserException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A run config: {@code --config FILE} plus dotted overrides such as {@code trainer.lr=1e-4}. */
public final class ConfigOptions {
  @Option(names = {"-c", "--config"}, description = "run config YAML (default: the built-in reference settings)")
  public Path config;

  @Parameters(paramLabel = "KEY=VALUE", description = "overrides, e.g. trainer.lr=1e-4 stages[0].steps=50")
  public List<String> overrides;

  /** Loads and validates; a bad key or value stops here, before any Spark work. */
  public PerlConfig load() {
    if (config != null && !Files.exists(config)) {
      throw new PerlUserException("--config " + config + ": no such file");
    }
    return ConfigLoader.load(config, overrides == null ? List.of() : overrides);
  }
}
