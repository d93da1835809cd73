package io.perlspark.model.loss;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.perlspark.model.learn.FlatParameters;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** A DJL Linear layer from per-token features [B, T, F] to logits [B, T, V], in float64, seeded. */
final class TinyLogitModel {
  final Linear linear;
  final List<Parameter> params;
  final NDManager manager;
  private final ParameterStore store;

  TinyLogitModel(NDManager manager, int features, int vocab, long seed) {
    this.manager = manager;
    linear = Linear.builder().setUnits(vocab).build();
    linear.initialize(manager, DataType.FLOAT64, new Shape(1, features));
    params = FlatParameters.trainable(linear);
    Random rnd = new Random(seed);
    for (Parameter p : params) {
      double[] v = new double[Math.toIntExact(p.getArray().size())];
      for (int i = 0; i < v.length; i++) {
        v[i] = rnd.nextGaussian() * 0.7;
      }
      p.getArray().set(v);
    }
    store = new ParameterStore(manager, false);
  }

  /** Token log-probs [B, T] of {@code targets} given features [B, T, F]. */
  NDArray tokenLogProbs(NDArray features, NDArray targets, boolean training) {
    Shape s = features.getShape();
    NDArray flat = features.reshape(s.get(0) * s.get(1), s.get(2));
    NDArray logits = linear.forward(store, new NDList(flat), training).singletonOrThrow();
    return TokenLogProbs.gather(logits.reshape(s.get(0), s.get(1), -1), targets);
  }

  /** The gradient of {@code loss(logp)} with respect to every parameter, flat. */
  float[] gradient(NDArray features, NDArray targets, Function<NDArray, NDArray> loss) {
    FlatParameters.zeroGradients(params);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(loss.apply(tokenLogProbs(features, targets, true)));
    }
    return FlatParameters.gradients(params);
  }

  /** The loss value without gradient tracking. */
  double value(NDArray features, NDArray targets, Function<NDArray, NDArray> loss) {
    return loss.apply(tokenLogProbs(features, targets, false)).getDouble();
  }

  /** Central finite differences of the loss with respect to every parameter value, in float64. */
  double[] finiteDifferences(NDArray features, NDArray targets, Function<NDArray, NDArray> loss, double h) {
    int total = FlatParameters.size(params);
    double[] out = new double[total];
    int offset = 0;
    for (Parameter p : params) {
      NDArray a = p.getArray();
      double[] base = a.toDoubleArray();
      for (int i = 0; i < base.length; i++) {
        double[] v = base.clone();
        v[i] = base[i] + h;
        a.set(v);
        double plus = value(features, targets, loss);
        v[i] = base[i] - h;
        a.set(v);
        double minus = value(features, targets, loss);
        out[offset + i] = (plus - minus) / (2 * h);
      }
      a.set(base);
      offset += base.length;
    }
    return out;
  }
}
