package io.perlspark.jobs.cli;

import io.perlspark.common.config.ConfigException;
import io.perlspark.jobs.PerlUserException;
import picocli.CommandLine;

/**
 * Turns the errors a user can fix (bad config, bad paths, bad input) into one clear message without a
 * stack trace; anything else is a bug and keeps its stack trace.
 */
final class UserErrors implements CommandLine.IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    if (isUserError(ex)) {
      cl.getErr().println(cl.getColorScheme().errorText("perl " + cl.getCommandName() + ": " + ex.getMessage()));
      return 2;
    }
    ex.printStackTrace(cl.getErr());
    return 1;
  }

  static boolean isUserError(Throwable t) {
    return t instanceof PerlUserException || t instanceof ConfigException;
  }
}
