package io.perlspark.common.rl;

import java.io.Serializable;
import java.util.Objects;

/**
 * Keep a group, or drop it for a reason.
 *
 * @param kept whether the group stays in the batch
 * @param reason why it was dropped; {@code null} when kept
 */
public record Decision(boolean kept, DropReason reason) implements Serializable {
  public static final Decision KEEP = new Decision(true, null);

  public Decision {
    if (kept == (reason != null)) {
      throw new IllegalArgumentException(
          kept ? "a kept group has no drop reason, got " + reason : "a dropped group needs a reason");
    }
  }

  public static Decision drop(DropReason reason) {
    return new Decision(false, Objects.requireNonNull(reason, "reason"));
  }

  public boolean dropped() {
    return !kept;
  }
}
