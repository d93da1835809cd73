package io.perlspark.model.family.qwen25vl;

import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.as;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.attentionWeights;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.linear;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.owned;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.repeatKv;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rmsNorm;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rotary;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.rows;
import static io.perlspark.model.family.qwen25vl.Qwen25VlOps.silu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.perlspark.model.policy.Constants;
import java.util.List;
import java.util.function.Function;

/**
 * The Qwen2 decoder of Qwen2.5-VL over the parameters named {@code model.*} and {@code
 * lm_head.weight}: token embedding with the image embeddings scattered in, layers (RMSNorm, GQA
 * with q/k/v biases and M-RoPE, o_proj without bias, SwiGLU MLP without biases), final norm, and
 * the tied or untied head.
 */
final class Qwen25VlDecoder {
  private final Qwen25VlConfig config;
  private final Function<String, NDArray> weights;
  private final Qwen25VlOps.Adapter adapter;

  Qwen25VlDecoder(Qwen25VlConfig config, Function<String, NDArray> weights,
      Qwen25VlOps.Adapter adapter) {
    this.config = config;
    this.weights = weights;
    this.adapter = adapter;
  }

  /** Linear module {@code module} over x (its bias when it has one), through the adapter. */
  private NDArray proj(String module, NDArray x, boolean bias) {
    return adapter.adapt(module, x,
        linear(x, w(module + ".weight"), bias ? w(module + ".bias") : null));
  }

  private NDArray w(String name) {
    return weights.apply(name);
  }

  /** Keys and values of every layer so far, {@code [B, kvHeads, T, headDim]} (after rotary). */
  static final class KvCache implements AutoCloseable {
    private final NDManager cacheManager;
    private final NDArray[] keys;
    private final NDArray[] values;

    KvCache(NDManager parent, int layers) {
      this.cacheManager = parent.newSubManager();
      this.keys = new NDArray[layers];
      this.values = new NDArray[layers];
    }

    NDArray[] append(int layer, NDArray k, NDArray v) {
      NDArray allK = keys[layer] == null ? k : keys[layer].concat(k, 2);
      NDArray allV = values[layer] == null ? v : values[layer].concat(v, 2);
      allK.attach(cacheManager);
      allV.attach(cacheManager);
      if (keys[layer] != null) {
        keys[layer].close();
        values[layer].close();
      }
      keys[layer] = allK;
      values[layer] = allV;
      return new NDArray[] {allK, allV};
    }

    @Override
    public void close() {
      cacheManager.close();
    }
  }

  /**
   * Token embeddings {@code [B, L, H]} with the image embeddings scattered, in order, into the
   * {@code <|image_pad|>} positions (differentiable in both the embedding matrix and the images).
   */
  NDArray embed(NDManager m, long[][] ids, NDArray imageEmbeds) {
    int batch = ids.length;
    int length = ids[0].length;
    long[] tokens = new long[batch * length];
    long[] imageRow = new long[batch * length];
    float[] isImage = new float[batch * length];
    int images = 0;
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l < length; l++) {
        long id = ids[b][l];
        int at = b * length + l;
        if (id == config.imageTokenId() && imageEmbeds != null) {
          imageRow[at] = images++;
          isImage[at] = 1f;
        } else {
          tokens[at] = id;
        }
      }
    }
    NDArray text = rows(m.create(tokens, new Shape(batch, length)), w("model.embed_tokens.weight"));
    long available = imageEmbeds == null ? 0 : imageEmbeds.getShape().get(0);
    if (images != available) {
      throw new IllegalArgumentException("the batch has " + images + " <|image_pad|> tokens but "
          + available + " image embeddings");
    }
    if (images == 0) {
      return text;
    }
    NDArray image = rows(m.create(imageRow, new Shape(batch, length)), imageEmbeds);
    float[] isText = new float[isImage.length];
    for (int i = 0; i < isText.length; i++) {
      isText[i] = 1f - isImage[i];
    }
    // x * 1 + y * 0 is exact, so text and image rows keep their values bit for bit; the masks
    // take the embeddings' type (a float32 mask would promote a half-precision product).
    DataType type = text.getDataType();
    return text.mul(as(owned(m, isText, new Shape(batch, length, 1)), type))
        .add(as(image, type).mul(as(owned(m, isImage, new Shape(batch, length, 1)), type)));
  }

  /**
   * Text embeddings {@code [B, L, H]} of ids already on the device ({@code [B, L]} int64; no image
   * tokens): cached decoding feeds the sampled ids without a round trip through Java. The result
   * joins the ids' manager.
   */
  NDArray embedTokens(NDArray ids) {
    return rows(ids, w("model.embed_tokens.weight"));
  }

  /**
   * The decoder layers over {@code x [B, L, H]}; returns the residual stream before the final norm.
   *
   * @param cos M-RoPE table {@code [B, 1, L, headDim]} in x's type (sin likewise), as
   *     transformers casts it ({@code cos.to(x.dtype)})
   * @param bias additive attention bias {@code [B, 1, L, Lk]}, float32
   * @param cache when not null, keys and values are appended and attention covers the cache
   * @param layerOutputs when not null, receives each layer's output
   */
  NDArray layers(NDArray x, NDArray cos, NDArray sin, NDArray bias, KvCache cache,
      List<NDArray> layerOutputs) {
    long batch = x.getShape().get(0);
    long length = x.getShape().get(1);
    int heads = config.numHeads();
    int kvHeads = config.numKvHeads();
    int hd = config.headDim();
    int groups = heads / kvHeads;
    for (int l = 0; l < config.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      NDArray h = rmsNorm(x, w(p + "input_layernorm.weight"), config.rmsNormEps());
      NDArray q = proj(p + "self_attn.q_proj", h, true)
          .reshape(batch, length, heads, hd).transpose(0, 2, 1, 3);
      NDArray k = proj(p + "self_attn.k_proj", h, true)
          .reshape(batch, length, kvHeads, hd).transpose(0, 2, 1, 3);
      NDArray v = proj(p + "self_attn.v_proj", h, true)
          .reshape(batch, length, kvHeads, hd).transpose(0, 2, 1, 3);
      q = rotary(q, cos, sin);
      k = rotary(k, cos, sin);
      if (cache != null) {
        NDArray[] kv = cache.append(l, k, v);
        k = kv[0];
        v = kv[1];
      }
      k = repeatKv(k, groups);
      v = repeatKv(v, groups);
      NDArray scores = q.matMul(k.transpose(0, 1, 3, 2))
          .mul(Constants.scalar(q, 1.0 / Math.sqrt(hd)));
      NDArray mixed = attentionWeights(scores, bias).matMul(v).transpose(0, 2, 1, 3)
          .reshape(batch, length, (long) heads * hd);
      x = x.add(proj(p + "self_attn.o_proj", mixed, false));
      NDArray h2 = rmsNorm(x, w(p + "post_attention_layernorm.weight"), config.rmsNormEps());
      NDArray gate = proj(p + "mlp.gate_proj", h2, false);
      NDArray up = proj(p + "mlp.up_proj", h2, false);
      x = x.add(proj(p + "mlp.down_proj", silu(gate).mul(up), false));
      if (layerOutputs != null) {
        layerOutputs.add(x);
      }
    }
    return x;
  }

  /** Final RMSNorm. */
  NDArray finalNorm(NDArray x) {
    return rmsNorm(x, w("model.norm.weight"), config.rmsNormEps());
  }

  /** LM head: logits {@code [..., vocab]} (tied: the embedding matrix). */
  NDArray head(NDArray normed) {
    return linear(normed, w(config.tieWordEmbeddings() ? "model.embed_tokens.weight"
        : "lm_head.weight"), null);
  }
}
