package io.perlspark.jobs;

/**
 * An error the user can fix (a missing path, a bad option, damaged checkpoints), thrown by any job;
 * the CLI prints its message as one line, without a stack trace, and exits with 2. Config errors
 * found while loading a run config are perl-common's {@code ConfigException} instead.
 */
public class PerlUserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PerlUserException(String message) {
    super(message);
  }

  public PerlUserException(String message, Throwable cause) {
    super(message, cause);
  }
}
