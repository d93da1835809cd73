package io.perlspark.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code perl} command line: one subcommand per Spark job. The same class is the main class of
 * the shaded application jar, so {@code spark-submit perl-spark-jobs.jar synth ...} and
 * {@code bin/perl synth ...} run the same code.
 */
@Command(
    name = "perl",
    mixinStandardHelpOptions = true,
    versionProvider = PerlCli.Version.class,
    description = "PeRL-Spark: permutation-enhanced RL for interleaved multi-image VLMs on Apache Spark.",
    subcommands = {CommandLine.HelpCommand.class})
public final class PerlCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new PerlCli());
    for (Object sub : Subcommands.all()) {
      cl.addSubcommand(sub);
    }
    cl.setExecutionExceptionHandler(new UserErrors());
    return cl;
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    // A Spark application launched by spark-submit must not call System.exit before the session is
    // stopped; every subcommand stops its own session in a finally block.
    System.exit(code);
  }

  /** Version from the jar manifest (set by Maven), or "dev" when running from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = PerlCli.class.getPackage().getImplementationVersion();
      return new String[] {"perl " + (v == null ? "dev" : v)};
    }
  }
}
