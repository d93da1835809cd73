package io.perlspark.jobs.prepare;

import java.util.List;

/**
 * What one {@code perl prepare --incremental} run did.
 *
 * @param batch the batch this run wrote, or 0 when there was nothing new
 * @param newFiles input files this run prepared
 * @param preparedBefore input files skipped because an earlier batch prepared them
 * @param recoveredBatches batches an interrupted run had committed but not yet listed in the manifest,
 *     listed by this run instead of being redone
 * @param batchCounts the counts of this run's batch, or null when there was nothing new
 * @param totals the counts over every batch of the output
 * @param batches how many batches the output holds now
 */
public record IncrementalSummary(int batch, int newFiles, int preparedBefore, List<Integer> recoveredBatches,
    PrepareSummary batchCounts, PrepareSummary totals, int batches) {

  public boolean nothingNew() {
    return batch == 0;
  }

  /** The console report of the run. */
  public String toText(String output) {
    StringBuilder sb = new StringBuilder();
    for (int b : recoveredBatches) {
      sb.append("recovered batch ").append(b).append(": an interrupted run had committed it; it is now listed in ")
          .append(output).append("/").append(IncrementalPrepare.MANIFEST).append(System.lineSeparator());
    }
    if (nothingNew()) {
      sb.append("nothing to do: ").append(preparedBefore == 1 ? "the input file was" : "all " + preparedBefore + " input files were")
          .append(" prepared by earlier runs");
    } else {
      sb.append(batchCounts.toTable()).append(System.lineSeparator());
      sb.append("batch ").append(batch).append(": ").append(newFiles).append(" new input file").append(newFiles == 1 ? "" : "s")
          .append(" prepared (").append(preparedBefore).append(" prepared before)");
    }
    sb.append(System.lineSeparator()).append(output).append(" holds ").append(batches).append(" batch")
        .append(batches == 1 ? "" : "es").append(": ").append(totals.kept()).append(" rows kept in ").append(output)
        .append("/data, ").append(totals.rejected()).append(" rejected in ").append(output).append("/rejects");
    return sb.toString();
  }
}
