package io.perlspark.model.family.qwen25vl;

import java.util.Arrays;
import java.util.List;

/**
 * Positions and rotary tables of Qwen2.5-VL: the 3-axis text positions (M-RoPE) of
 * transformers' {@code get_rope_index}, the 2-D vision rotary, and the window order of the
 * vision tower. Pure Java: small integer bookkeeping, computed once per batch.
 */
public final class Qwen25VlRope {
  private Qwen25VlRope() {}

  /**
   * Text positions {@code [3][B][L]} (t, h, w) and per-row deltas.
   *
   * @param ropeDeltas per row, {@code max(position) + 1 - n_valid_tokens}: the k-th generated
   *     token (k = 0, 1, ...) of row b sits at {@code n_valid + k + ropeDeltas[b]} on all axes
   */
  public record RopeIndex(long[][][] positions, long[] ropeDeltas) {
    /** Position of generated token k of row b (all three axes), for a row of nValid tokens. */
    public long generatedPosition(int b, int nValid, int k) {
      return nValid + k + ropeDeltas[b];
    }
  }

  /**
   * As transformers' {@code Qwen2_5_VLModel.get_rope_index} for images: each row gets positions
   * from its own tokens and its own images' grids; pad columns ({@code attentionMask == 0}) get 0.
   * Text token: (p, p, p), then p + 1. Image with merged grid (t, lh, lw) starting at p: token
   * (ti, r, c) gets (p, p + r, p + c) (images have no temporal spacing), then p += max(lh, lw).
   *
   * @param grids the grids of all images of the batch, in row order then token order
   */
  public static RopeIndex ropeIndex(
      long[][] inputIds, int[][] attentionMask, List<int[]> grids, Qwen25VlConfig c) {
    int batch = inputIds.length;
    int length = batch == 0 ? 0 : inputIds[0].length;
    long[][][] pos = new long[3][batch][length];
    long[] deltas = new long[batch];
    int merge = c.vision().spatialMergeSize();
    int nextImage = 0;
    for (int b = 0; b < batch; b++) {
      if (inputIds[b].length != length || attentionMask[b].length != length) {
        throw new IllegalArgumentException("row " + b + " has " + inputIds[b].length + " ids and "
            + attentionMask[b].length + " mask entries; every row needs " + length);
      }
      long p = 0;
      long max = -1;
      int valid = 0;
      int col = 0;
      while (col < length) {
        if (attentionMask[b][col] == 0) {
          col++;
          continue;
        }
        if (inputIds[b][col] == c.imageTokenId()) {
          if (nextImage >= grids.size()) {
            throw new IllegalArgumentException("row " + b + " has more images than the "
                + grids.size() + " grids given");
          }
          int[] g = grids.get(nextImage++);
          int t = g[0];
          int lh = g[1] / merge;
          int lw = g[2] / merge;
          int n = t * lh * lw;
          int filled = 0;
          for (int ti = 0; ti < t; ti++) {
            for (int r = 0; r < lh; r++) {
              for (int w = 0; w < lw; w++) {
                // Skip pad columns inside the run only defensively: a prompt is contiguous.
                while (col < length && attentionMask[b][col] == 0) {
                  col++;
                }
                if (col >= length || inputIds[b][col] != c.imageTokenId()) {
                  throw new IllegalArgumentException("row " + b + ": image " + (nextImage - 1)
                      + " with grid " + Arrays.toString(g) + " needs " + n
                      + " consecutive <|image_pad|> tokens, found " + filled);
                }
                pos[0][b][col] = p;
                pos[1][b][col] = p + r;
                pos[2][b][col] = p + w;
                max = Math.max(max, Math.max(p + r, p + w));
                col++;
                valid++;
                filled++;
              }
            }
          }
          // Images carry no temporal spacing (t index 0 for every frame), so the next token
          // follows the largest spatial position.
          p += Math.max(lh, lw);
          max = Math.max(max, p - 1);
        } else {
          pos[0][b][col] = p;
          pos[1][b][col] = p;
          pos[2][b][col] = p;
          max = Math.max(max, p);
          p++;
          col++;
          valid++;
        }
      }
      deltas[b] = max + 1 - valid;
    }
    if (nextImage != grids.size()) {
      throw new IllegalArgumentException(
          grids.size() + " grids given but the batch has " + nextImage + " images");
    }
    return new RopeIndex(pos, deltas);
  }

  /**
   * {@code 1 / theta^(2i / dim)} for i < dim/2, rounded as PyTorch does in float32 (the exponent
   * and the power are float32 results).
   */
  static float[] inverseFrequencies(double theta, int dim) {
    float[] inv = new float[dim / 2];
    for (int i = 0; i < inv.length; i++) {
      float exponent = (float) (2 * i) / (float) dim;
      float power = (float) Math.pow(theta, exponent);
      inv[i] = 1.0f / power;
    }
    return inv;
  }

  /**
   * M-RoPE cos and sin tables {@code [B, L, headDim]} (flattened): channel block i of the
   * {@code mrope_section} split (repeated twice to cover both rotate_half halves) takes its angle
   * from axis {@code i mod 3}.
   *
   * @param positions {@code [3][B][L]}
   */
  static float[][] textCosSin(long[][][] positions, Qwen25VlConfig c) {
    int batch = positions[0].length;
    int length = batch == 0 ? 0 : positions[0][0].length;
    int hd = c.headDim();
    int half = hd / 2;
    float[] inv = inverseFrequencies(c.ropeTheta(), hd);
    int[] axisOfChannel = new int[half];
    int at = 0;
    for (int s = 0; s < 3; s++) {
      for (int k = 0; k < c.mropeSection()[s]; k++) {
        axisOfChannel[at++] = s;
      }
    }
    float[] cos = new float[batch * length * hd];
    float[] sin = new float[batch * length * hd];
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l < length; l++) {
        int base = (b * length + l) * hd;
        for (int j = 0; j < half; j++) {
          float angle = (float) positions[axisOfChannel[j]][b][l] * inv[j];
          float cv = (float) Math.cos(angle);
          float sv = (float) Math.sin(angle);
          cos[base + j] = cv;
          cos[base + j + half] = cv;
          sin[base + j] = sv;
          sin[base + j + half] = sv;
        }
      }
    }
    return new float[][] {cos, sin};
  }

  /**
   * The (row, col) of every patch in processor order ({@code (t, h/2, w/2, 2, 2)} blocks), all
   * images concatenated: {@code [N][2]}.
   */
  static int[][] patchRowCol(List<int[]> grids, int merge) {
    int total = 0;
    for (int[] g : grids) {
      total += g[0] * g[1] * g[2];
    }
    int[][] out = new int[total][];
    int at = 0;
    for (int[] g : grids) {
      for (int t = 0; t < g[0]; t++) {
        for (int br = 0; br < g[1] / merge; br++) {
          for (int bc = 0; bc < g[2] / merge; bc++) {
            for (int ir = 0; ir < merge; ir++) {
              for (int ic = 0; ic < merge; ic++) {
                out[at++] = new int[] {br * merge + ir, bc * merge + ic};
              }
            }
          }
        }
      }
    }
    return out;
  }

  /**
   * Vision rotary cos and sin {@code [N, headDim]} (flattened) for patches in the given order:
   * angles {@code [row * inv, col * inv]} (headDim/2 values) duplicated for rotate_half.
   */
  static float[][] visionCosSin(int[][] rowCol, int[] order, Qwen25VlConfig.Vision v) {
    int hd = v.headDim();
    int quarter = hd / 4;
    float[] inv = inverseFrequencies(v.ropeTheta(), hd / 2);
    int n = order.length;
    float[] cos = new float[n * hd];
    float[] sin = new float[n * hd];
    for (int i = 0; i < n; i++) {
      int[] rc = rowCol[order[i]];
      int base = i * hd;
      for (int j = 0; j < quarter; j++) {
        float[] angles = {(float) rc[0] * inv[j], (float) rc[1] * inv[j]};
        for (int a = 0; a < 2; a++) {
          float cv = (float) Math.cos(angles[a]);
          float sv = (float) Math.sin(angles[a]);
          int ch = a * quarter + j;
          cos[base + ch] = cv;
          cos[base + ch + hd / 2] = cv;
          sin[base + ch] = sv;
          sin[base + ch + hd / 2] = sv;
        }
      }
    }
    return new float[][] {cos, sin};
  }

  /** Window order of the merged tokens and the attention segments of the vision tower. */
  public record Windows(int[] windowIndex, int[] cuWindowSeqlens, int[] cuSeqlens) {
    /** The patch order: merged token k of window order contributes its merge-unit patches. */
    int[] patchOrder(int mergeUnit) {
      int[] order = new int[windowIndex.length * mergeUnit];
      for (int k = 0; k < windowIndex.length; k++) {
        for (int u = 0; u < mergeUnit; u++) {
          order[k * mergeUnit + u] = windowIndex[k] * mergeUnit + u;
        }
      }
      return order;
    }

    /** argsort(windowIndex): from window order back to processor order. */
    int[] inverse() {
      int[] inv = new int[windowIndex.length];
      for (int k = 0; k < windowIndex.length; k++) {
        inv[windowIndex[k]] = k;
      }
      return inv;
    }
  }

  /**
   * As transformers' {@code get_window_index}: per image and frame, the merged grid is cut into
   * {@code w x w} windows (w = window_size / merge / patch; incomplete at the bottom and right),
   * windows taken row-major and tokens row-major inside each. Segment boundaries are in patches,
   * empty windows dropped (as {@code unique_consecutive}).
   */
  public static Windows windows(List<int[]> grids, Qwen25VlConfig.Vision v) {
    int win = v.mergedWindow();
    int unit = v.mergeUnit();
    int merge = v.spatialMergeSize();
    int totalMerged = 0;
    for (int[] g : grids) {
      totalMerged += g[0] * (g[1] / merge) * (g[2] / merge);
    }
    int[] index = new int[totalMerged];
    java.util.List<Integer> cuWindows = new java.util.ArrayList<>();
    cuWindows.add(0);
    java.util.List<Integer> cuSeq = new java.util.ArrayList<>();
    cuSeq.add(0);
    int at = 0;
    int offset = 0;
    for (int gi = 0; gi < grids.size(); gi++) {
      int[] g = grids.get(gi);
      int lh = g[1] / merge;
      int lw = g[2] / merge;
      for (int t = 0; t < g[0]; t++) {
        // Full-attention segments are frames (repeat_interleave of h*w by t), not images.
        cuSeq.add(cuSeq.get(cuSeq.size() - 1) + g[1] * g[2]);
        for (int wr = 0; wr * win < lh; wr++) {
          for (int wc = 0; wc * win < lw; wc++) {
            int count = 0;
            for (int r = wr * win; r < Math.min(lh, (wr + 1) * win); r++) {
              for (int col = wc * win; col < Math.min(lw, (wc + 1) * win); col++) {
                index[at++] = offset + t * lh * lw + r * lw + col;
                count++;
              }
            }
            if (count > 0) {
              cuWindows.add(cuWindows.get(cuWindows.size() - 1) + count * unit);
            }
          }
        }
      }
      offset += g[0] * lh * lw;
    }
    return new Windows(index, cuWindows.stream().mapToInt(Integer::intValue).toArray(),
        cuSeq.stream().mapToInt(Integer::intValue).toArray());
  }
}
