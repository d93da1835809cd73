package io.perlspark.common.data;

import java.io.Serializable;

/** A rejected row: which row, from which file, why, with a human-readable detail. */
public record Rejection(String rowId, String sourceFile, RejectReason reason, String detail)
    implements Serializable {

  @Override
  public String toString() {
    return sourceFile + " row " + rowId + ": " + reason.wireName() + " (" + detail + ")";
  }
}
