package io.perlspark.model.family.builtin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.perlspark.common.Seeds;
import io.perlspark.model.policy.Constants;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The network of {@link TinyVlm} as a DJL block with explicit parameters: a patch encoder (linear
 * projection of each patch plus a learned patch-index embedding), token and learned absolute
 * position embeddings, a causal pre-LayerNorm transformer decoder, and an LM head.
 *
 * <p>Activations are always the first operand of an op, so their results attach to the caller's
 * manager, never to the manager that owns the parameters.
 */
final class TinyVlmBlock extends AbstractBlock {
  private static final byte VERSION = 1;
  private static final float LAYER_NORM_EPS = 1e-5f;
  private static final double EMBEDDING_STD = 0.02;

  private final ModelSpec spec;
  private final List<Parameter> ordered = new ArrayList<>();
  final Parameter patchWeight;
  final Parameter patchBias;
  final Parameter patchPosition;
  final Parameter tokenEmbedding;
  final Parameter positionEmbedding;
  final Layer[] layers;
  final Parameter finalGamma;
  final Parameter finalBeta;
  final Parameter headWeight;

  /** Parameters of one decoder layer. Linear weights are {@code [out, in]} as in PyTorch. */
  record Layer(
      Parameter ln1Gamma,
      Parameter ln1Beta,
      Parameter qkvWeight,
      Parameter qkvBias,
      Parameter outWeight,
      Parameter outBias,
      Parameter ln2Gamma,
      Parameter ln2Beta,
      Parameter ffnInWeight,
      Parameter ffnInBias,
      Parameter ffnOutWeight,
      Parameter ffnOutBias) {}

  TinyVlmBlock(ModelSpec spec, long seed) {
    super(VERSION);
    this.spec = spec;
    int d = spec.dModel();
    int f = spec.ffnDim();
    // GPT-2 style: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 * layers); the
    // patch projection gets 1/sqrt(fan-in) so image features start at a useful scale.
    double residualStd = EMBEDDING_STD / Math.sqrt(2.0 * spec.layers());
    patchWeight =
        weight(seed, "patch.weight", new Shape(d, spec.patchDim()), 1 / Math.sqrt(spec.patchDim()));
    patchBias = zeros("patch.bias", new Shape(d));
    patchPosition =
        weight(seed, "patch.position", new Shape(spec.patchesPerImage(), d), EMBEDDING_STD);
    tokenEmbedding = weight(seed, "token.embedding", new Shape(spec.vocabSize(), d), EMBEDDING_STD);
    positionEmbedding =
        weight(seed, "position.embedding", new Shape(spec.maxSeqLen(), d), EMBEDDING_STD);
    layers = new Layer[spec.layers()];
    for (int l = 0; l < layers.length; l++) {
      String p = "layer" + l + ".";
      layers[l] =
          new Layer(
              ones(p + "ln1.gamma", new Shape(d)),
              zeros(p + "ln1.beta", new Shape(d)),
              weight(seed, p + "attn.qkv.weight", new Shape(3L * d, d), EMBEDDING_STD),
              zeros(p + "attn.qkv.bias", new Shape(3L * d)),
              weight(seed, p + "attn.out.weight", new Shape(d, d), residualStd),
              zeros(p + "attn.out.bias", new Shape(d)),
              ones(p + "ln2.gamma", new Shape(d)),
              zeros(p + "ln2.beta", new Shape(d)),
              weight(seed, p + "ffn.in.weight", new Shape(f, d), EMBEDDING_STD),
              zeros(p + "ffn.in.bias", new Shape(f)),
              weight(seed, p + "ffn.out.weight", new Shape(d, f), residualStd),
              zeros(p + "ffn.out.bias", new Shape(d)));
    }
    finalGamma = ones("final.gamma", new Shape(d));
    finalBeta = zeros("final.beta", new Shape(d));
    headWeight =
        spec.tiedHead()
            ? null
            : weight(seed, "head.weight", new Shape(spec.vocabSize(), d), EMBEDDING_STD);
  }

  /** Every parameter in a fixed order (creation order); the learner flattens in this order. */
  List<Parameter> orderedParameters() {
    return Collections.unmodifiableList(ordered);
  }

  private Parameter weight(long seed, String name, Shape shape, double std) {
    // Each tensor draws from its own stream, seeded by (model seed, tensor index): adding a
    // tensor later does not change the others.
    long streamSeed = Seeds.derive(seed, ordered.size());
    return add(name, Parameter.Type.WEIGHT, shape, new SeededNormal(streamSeed, std));
  }

  private Parameter zeros(String name, Shape shape) {
    return add(name, Parameter.Type.BIAS, shape, Initializer.ZEROS);
  }

  private Parameter ones(String name, Shape shape) {
    return add(name, Parameter.Type.GAMMA, shape, Initializer.ONES);
  }

  private Parameter add(String name, Parameter.Type type, Shape shape, Initializer init) {
    Parameter p =
        addParameter(
            Parameter.builder()
                .setName(name)
                .setType(type)
                .optShape(shape)
                .optInitializer(init)
                .build());
    ordered.add(p);
    return p;
  }

  /**
   * Input embeddings {@code [B, L, d]}: table rows (see {@link Sequences}) plus positions.
   *
   * @param patches {@code [N*P*patchDim]} patch pixels of the batch's images, or null when none
   */
  NDArray embed(
      NDManager m, long[] tableRows, long[] positions, int batch, int length, float[] patches,
      int images) {
    NDArray rows = m.create(tableRows, new Shape(batch, length));
    NDArray pos = m.create(positions, new Shape(batch, length));
    NDArray table;
    if (images > 0) {
      NDArray pixels =
          m.create(patches, new Shape(images, spec.patchesPerImage(), spec.patchDim()));
      NDArray projected = linear(pixels, patchWeight, patchBias).add(patchPosition.getArray());
      table =
          projected
              .reshape((long) images * spec.patchesPerImage(), spec.dModel())
              .concat(tokenEmbedding.getArray(), 0);
    } else {
      table = tokenEmbedding.getArray();
    }
    NDArray x = embedding(rows, table);
    return x.add(embedding(pos, positionEmbedding.getArray()));
  }

  /**
   * Runs the decoder layers; returns the residual stream {@code [B, L, d]} before the final layer
   * norm.
   *
   * @param bias additive attention bias, broadcastable to {@code [B, 1, L, Lk]} (0 = attend, a
   *     large negative value = masked)
   * @param cache when not null, this step's keys and values are appended to it and attention
   *     covers the cached tokens too ({@code Lk} = cached + L)
   */
  NDArray decode(NDArray x, NDArray bias, KvCache cache) {
    int heads = spec.heads();
    long hd = spec.headDim();
    long d = spec.dModel();
    long batch = x.getShape().get(0);
    long length = x.getShape().get(1);
    float scale = (float) (1.0 / Math.sqrt(hd));
    for (int l = 0; l < layers.length; l++) {
      Layer layer = layers[l];
      NDArray h = layerNorm(x, layer.ln1Gamma(), layer.ln1Beta());
      NDList qkv = linear(h, layer.qkvWeight(), layer.qkvBias()).split(3, 2);
      NDArray q = qkv.get(0).reshape(batch, length, heads, hd).transpose(0, 2, 1, 3).mul(Constants.scalar(x, scale));
      NDArray k = qkv.get(1).reshape(batch, length, heads, hd).transpose(0, 2, 1, 3);
      NDArray v = qkv.get(2).reshape(batch, length, heads, hd).transpose(0, 2, 1, 3);
      if (cache != null) {
        NDArray[] kv = cache.append(l, k, v);
        k = kv[0];
        v = kv[1];
      }
      NDArray attention = q.matMul(k.transpose(0, 1, 3, 2)).add(bias).softmax(-1);
      NDArray mixed = attention.matMul(v).transpose(0, 2, 1, 3).reshape(batch, length, d);
      x = x.add(linear(mixed, layer.outWeight(), layer.outBias()));
      NDArray h2 = layerNorm(x, layer.ln2Gamma(), layer.ln2Beta());
      NDArray hidden = linear(h2, layer.ffnInWeight(), layer.ffnInBias());
      NDArray activated = hidden.getNDArrayInternal().gelu();
      x = x.add(linear(activated, layer.ffnOutWeight(), layer.ffnOutBias()));
    }
    return x;
  }

  /** Final layer norm and LM head: logits {@code [..., vocab]}. */
  NDArray head(NDArray x) {
    NDArray h = layerNorm(x, finalGamma, finalBeta);
    return linear(h, spec.tiedHead() ? tokenEmbedding : headWeight, null);
  }

  /** Rows of a table by index (differentiable in the table); the result joins idx's manager. */
  static NDArray embedding(NDArray idx, NDArray table) {
    return idx.getNDArrayInternal().embedding(idx, table, ai.djl.ndarray.types.SparseFormat.DENSE)
        .singletonOrThrow();
  }

  private static NDArray linear(NDArray x, Parameter weight, Parameter bias) {
    return x.getNDArrayInternal()
        .linear(x, weight.getArray(), bias == null ? null : bias.getArray())
        .singletonOrThrow();
  }

  private NDArray layerNorm(NDArray x, Parameter gamma, Parameter beta) {
    return x.getNDArrayInternal()
        .layerNorm(
            x, new Shape(spec.dModel()), gamma.getArray(), beta.getArray(), LAYER_NORM_EPS)
        .singletonOrThrow();
  }

  /**
   * DJL entry point: inputs {@code (tableRows [B, L] int64, positions [B, L] int64, attention
   * bias [B|1, 1, L, L], patches [N, P, patchDim] (optional))}, output {@code logits [B, L, V]}.
   */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray rows = inputs.get(0);
    NDArray pos = inputs.get(1);
    NDArray bias = inputs.get(2);
    NDArray table;
    if (inputs.size() > 3) {
      NDArray pixels = inputs.get(3);
      long n = pixels.getShape().get(0);
      table =
          linear(pixels, patchWeight, patchBias)
              .add(patchPosition.getArray())
              .reshape(n * spec.patchesPerImage(), spec.dModel())
              .concat(tokenEmbedding.getArray(), 0);
    } else {
      table = tokenEmbedding.getArray();
    }
    NDArray x = embedding(rows, table).add(embedding(pos, positionEmbedding.getArray()));
    return new NDList(head(decode(x, bias, null)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape rows = inputShapes[0];
    return new Shape[] {new Shape(rows.get(0), rows.get(1), spec.vocabSize())};
  }

  /** Last position of each row: {@code [B, L, d] -> [B, d]}. */
  static NDArray lastPosition(NDArray x) {
    return x.get(new NDIndex(":, -1, :"));
  }

  /** Draws N(0, std^2) values from a seeded stream (Box-Muller), identical on every JVM. */
  private record SeededNormal(long seed, double std) implements Initializer {
    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
      SplittableRandom rng = new SplittableRandom(seed);
      float[] values = new float[Math.toIntExact(shape.size())];
      for (int i = 0; i < values.length; i += 2) {
        double u1 = 1.0 - rng.nextDouble(); // (0, 1]: log is finite
        double u2 = rng.nextDouble();
        double r = Math.sqrt(-2.0 * Math.log(u1)) * std;
        values[i] = (float) (r * Math.cos(2 * Math.PI * u2));
        if (i + 1 < values.length) {
          values[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
        }
      }
      return manager.create(values, shape).toType(dataType, false);
    }
  }
}
