package io.perlspark.model.checkpoint;

import java.io.IOException;

/** A checkpoint is missing, incomplete or corrupt; the message names the checkpoint and the file. */
public class CheckpointException extends IOException {
  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
