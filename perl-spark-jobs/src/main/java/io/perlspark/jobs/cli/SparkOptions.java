package io.perlspark.jobs.cli;

import picocli.CommandLine.Option;

/** Options every Spark subcommand shares. */
public final class SparkOptions {
  @Option(names = "--master", description = "Spark master (default: spark-submit's, else local[2])")
  public String master;
}
