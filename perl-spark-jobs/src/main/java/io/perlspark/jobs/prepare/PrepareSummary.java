package io.perlspark.jobs.prepare;

import java.util.Map;
import java.util.TreeMap;

/** Counts of one prepare run: every row read is either kept or rejected with a reason. */
public record PrepareSummary(long read, long kept, Map<String, Long> rejectedByReason, double seconds, long outputBytes,
    String idsFrom) {

  public PrepareSummary(long read, long kept, Map<String, Long> rejectedByReason, double seconds, long outputBytes) {
    this(read, kept, rejectedByReason, seconds, outputBytes, IdFrom.COLUMN.wireName());
  }

  public long rejected() {
    return rejectedByReason.values().stream().mapToLong(Long::longValue).sum();
  }

  public String toTable() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("read      %,10d%n", read));
    sb.append(String.format("kept      %,10d%n", kept));
    sb.append(String.format("rejected  %,10d%n", rejected()));
    for (Map.Entry<String, Long> e : new TreeMap<>(rejectedByReason).entrySet()) {
      sb.append(String.format("  %-26s %,8d%n", e.getKey(), e.getValue()));
    }
    sb.append(String.format("ids       %10s%s%n", idsFrom, idsFrom.equals("row")
        ? "  (no id column: <file>#<row>; --id-from to choose)" : ""));
    sb.append(String.format("time      %10.1f s", seconds));
    return sb.toString();
  }
}
