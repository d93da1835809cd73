package io.perlspark.jobs.cli;

import java.util.List;

/** The registered subcommands, in the order {@code perl --help} lists them. */
final class Subcommands {
  private Subcommands() {}

  static List<Object> all() {
    return List.of(new SynthCommand(), new PrepareCommand(), new PermuteCommand(), new InitModelCommand(), new SftCommand(),
        new FilterCommand(), new TrainCommand(), new EvalCommand(), new DemoCommand(),
        new SweepCommand(), new ExportCommand());
  }
}
