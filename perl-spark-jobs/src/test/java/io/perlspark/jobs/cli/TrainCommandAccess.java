package io.perlspark.jobs.cli;

import io.perlspark.jobs.train.PerlTrainer;

/** Lets tests in other packages check {@code perl train}'s exit code for a run without updates. */
public final class TrainCommandAccess {
  private TrainCommandAccess() {}

  public static int noUpdateExit(PerlTrainer.Result r, boolean allowNoUpdate) {
    return TrainCommand.noUpdateCheck(r, allowNoUpdate);
  }
}
