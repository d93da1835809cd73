package io.perlspark.jobs.cli;

/** An error the user can fix (a missing path, a bad option); printed without a stack trace. */
public class PerlUserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PerlUserException(String message) {
    super(message);
  }

  public PerlUserException(String message, Throwable cause) {
    super(message, cause);
  }
}
