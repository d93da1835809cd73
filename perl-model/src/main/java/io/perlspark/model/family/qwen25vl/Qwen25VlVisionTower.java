package io.perlspark.model.family.qwen25vl;

import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.as;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.attentionWeights;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.gelu;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.linear;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.owned;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rmsNorm;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rotary;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rows;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.silu;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.toLongs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.policy.Constants;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The Qwen2.5-VL vision tower over the parameters named {@code visual.*}: patch embedding (the
 * Conv3d with kernel = stride is a matmul over the flattened patch), permutation of the patches
 * into window order, blocks (RMSNorm, qkv with bias, 2-D rotary, attention within each window, or
 * within each frame for {@code fullatt_block_indexes}, SwiGLU MLP with biases), patch merger
 * (RMSNorm, 4 patches -> Linear -> GELU -> Linear), and the permutation back.
 *
 * <p>Attention runs segment by segment (as transformers' eager path does), so memory grows with
 * the window sizes, not with the square of all patches, and no two images ever mix.
 */
final class Qwen25VlVisionTower {
  private final Qwen25VlConfig.Vision v;
  private final Function<String, NDArray> weights;
  private final Qwen25VlOps.Adapter adapter;

  /** Output and, when traced, the intermediates (blocks in window order). */
  record Output(Qwen25VlRope.Windows windows, NDArray patchEmbed, List<NDArray> blocks,
      NDArray mergerOut, NDArray imageEmbeds) {}

  Qwen25VlVisionTower(Qwen25VlConfig.Vision vision, Function<String, NDArray> weights,
      Qwen25VlOps.Adapter adapter) {
    this.v = vision;
    this.weights = weights;
    this.adapter = adapter;
  }

  /** Linear module {@code module} (with its bias) over x, through the adapter. */
  private NDArray proj(String module, NDArray x) {
    return adapter.adapt(module, x, linear(x, w(module + ".weight"), w(module + ".bias")));
  }

  private NDArray w(String name) {
    return weights.apply(name);
  }

  /**
   * @param pixels {@code [N, patchDim]}, all images of the batch in processor order, in the
   *     weights' type
   * @return image embeddings {@code [N / mergeUnit, hidden]} in processor order (and, traced,
   *     the intermediates)
   */
  Output forward(NDManager m, NDArray pixels, List<int[]> grids, boolean trace) {
    int unit = v.mergeUnit();
    long n = pixels.getShape().get(0);
    long hv = v.hiddenSize();
    Qwen25VlRope.Windows win = Qwen25VlRope.windows(grids, v);
    if (n != (long) win.windowIndex().length * unit) {
      throw new IllegalArgumentException(
          n + " patches given but the grids describe " + win.windowIndex().length * unit);
    }
    NDArray patchWeight = w("visual.patch_embed.proj.weight").reshape(hv, v.patchDim());
    NDArray x = linear(pixels, patchWeight, null);
    NDArray patchEmbed = trace ? x : null;
    // Window order moves whole merge units (4 patches), so permute rows of [N/4, 4*hv].
    NDArray toWindow = m.create(toLongs(win.windowIndex()));
    x = rows(toWindow, x.reshape(n / unit, unit * hv)).reshape(n, hv);

    float[][] cs = Qwen25VlRope.visionCosSin(
        Qwen25VlRope.patchRowCol(grids, v.spatialMergeSize()), win.patchOrder(unit), v);
    Shape rot = new Shape(n, 1, v.headDim());
    // float32 whatever the model's type: the vision rotary runs in float32 (see block)
    NDArray cos = owned(m, cs[0], rot);
    NDArray sin = owned(m, cs[1], rot);
    List<NDArray> blocks = trace ? new ArrayList<>() : List.of();
    for (int i = 0; i < v.depth(); i++) {
      x = block(i, x, cos, sin, v.isFullAttention(i) ? win.cuSeqlens() : win.cuWindowSeqlens());
      if (trace) {
        blocks.add(x);
      }
    }
    NDArray merged = rmsNorm(x, w("visual.merger.ln_q.weight"), v.rmsNormEps())
        .reshape(n / unit, unit * hv);
    merged = proj("visual.merger.mlp.0", merged);
    merged = gelu(merged);
    merged = proj("visual.merger.mlp.2", merged);
    NDArray back = m.create(toLongs(win.inverse()));
    NDArray imageEmbeds = rows(back, merged);
    return new Output(win, patchEmbed, blocks, merged, imageEmbeds);
  }

  private NDArray block(int i, NDArray x, NDArray cos, NDArray sin, int[] segments) {
    String p = "visual.blocks." + i + ".";
    long n = x.getShape().get(0);
    int heads = v.numHeads();
    int hd = v.headDim();
    NDArray h = rmsNorm(x, w(p + "norm1.weight"), v.rmsNormEps());
    NDList qkv = proj(p + "attn.qkv", h).split(3, 1);
    // transformers' apply_rotary_pos_emb_vision rotates in float32 and casts back
    DataType type = h.getDataType();
    NDArray q = as(rotary(as(qkv.get(0).reshape(n, heads, hd), DataType.FLOAT32), cos, sin), type)
        .transpose(1, 0, 2);
    NDArray k = as(rotary(as(qkv.get(1).reshape(n, heads, hd), DataType.FLOAT32), cos, sin), type)
        .transpose(1, 0, 2);
    NDArray val = qkv.get(2).reshape(n, heads, hd).transpose(1, 0, 2);
    NDArray mixed = segmentAttention(q, k, val, segments, hd)
        .transpose(1, 0, 2).reshape(n, v.hiddenSize());
    x = x.add(proj(p + "attn.proj", mixed));
    NDArray h2 = rmsNorm(x, w(p + "norm2.weight"), v.rmsNormEps());
    NDArray gate = proj(p + "mlp.gate_proj", h2);
    NDArray up = proj(p + "mlp.up_proj", h2);
    return x.add(proj(p + "mlp.down_proj", silu(gate).mul(up)));
  }

  /**
   * Softmax attention within each segment {@code [cu[s], cu[s+1])} of the sequence axis.
   *
   * @param q {@code [heads, N, hd]} (k, v likewise)
   * @return {@code [heads, N, hd]}
   */
  private static NDArray segmentAttention(NDArray q, NDArray k, NDArray v, int[] cu, int hd) {
    long[] cuts = new long[cu.length - 2];
    for (int s = 1; s + 1 < cu.length; s++) {
      cuts[s - 1] = cu[s];
    }
    NDList qs = cuts.length == 0 ? new NDList(q) : q.split(cuts, 1);
    NDList ks = cuts.length == 0 ? new NDList(k) : k.split(cuts, 1);
    NDList vs = cuts.length == 0 ? new NDList(v) : v.split(cuts, 1);
    NDList out = new NDList(qs.size());
    for (int s = 0; s < qs.size(); s++) {
      NDArray scores = qs.get(s).matMul(ks.get(s).transpose(0, 2, 1))
          .mul(Constants.scalar(q, 1.0 / Math.sqrt(hd)));
      out.add(attentionWeights(scores, null).matMul(vs.get(s)));
    }
    return out.size() == 1 ? out.get(0) : NDArrays.concat(out, 1);
  }
}
