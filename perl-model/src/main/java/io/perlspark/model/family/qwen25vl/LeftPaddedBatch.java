package io.perlspark.model.family.qwen25vl;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Prompts of different lengths as one {@code [B, L]} batch, padded on the LEFT (the generation
 * layout: every row's last prompt token sits at column L-1, so new tokens are appended in the same
 * column for all rows), with the attention mask (0 on padding, 1 on tokens).
 */
public record LeftPaddedBatch(int[][] inputIds, int[][] attentionMask) {

  /** Left-pads {@code rows} with {@code padId} to the longest row's length. */
  public static LeftPaddedBatch of(List<int[]> rows, int padId) {
    Objects.requireNonNull(rows, "rows");
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("cannot batch zero rows");
    }
    int length = 0;
    for (int[] r : rows) {
      length = Math.max(length, r.length);
    }
    int[][] ids = new int[rows.size()][length];
    int[][] mask = new int[rows.size()][length];
    for (int b = 0; b < rows.size(); b++) {
      int[] r = rows.get(b);
      int pad = length - r.length;
      Arrays.fill(ids[b], 0, pad, padId);
      System.arraycopy(r, 0, ids[b], pad, r.length);
      Arrays.fill(mask[b], pad, length, 1);
    }
    return new LeftPaddedBatch(ids, mask);
  }

  public int batchSize() {
    return inputIds.length;
  }

  public int length() {
    return inputIds.length == 0 ? 0 : inputIds[0].length;
  }

  /** The ids row-major as {@code long[B*L]} (for an int64 tensor). */
  public long[] flatIds() {
    return flat(inputIds);
  }

  /** The mask row-major as {@code long[B*L]}. */
  public long[] flatMask() {
    return flat(attentionMask);
  }

  private static long[] flat(int[][] m) {
    int l = m.length == 0 ? 0 : m[0].length;
    long[] out = new long[m.length * l];
    for (int b = 0; b < m.length; b++) {
      for (int i = 0; i < l; i++) {
        out[b * l + i] = m[b][i];
      }
    }
    return out;
  }
}
