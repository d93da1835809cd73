package io.perlspark.model.family.builtin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of the tokens seen so far, per layer, {@code [B, heads, T, headDim]}. The arrays
 * live in the cache's manager, so a decode step can run in a short-lived sub-manager.
 */
final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;

  KvCache(NDManager parent, int layers) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  /** Appends this step's keys and values of a layer; returns the full keys and values. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    if (keys[layer] == null) {
      k.attach(manager);
      v.attach(manager);
      keys[layer] = k;
      values[layer] = v;
    } else {
      NDArray allK = keys[layer].concat(k, 2);
      NDArray allV = values[layer].concat(v, 2);
      allK.attach(manager);
      allV.attach(manager);
      keys[layer].close();
      values[layer].close();
      keys[layer] = allK;
      values[layer] = allV;
    }
    return new NDArray[] {keys[layer], values[layer]};
  }

  /** Cached sequence length (0 before the first append). */
  long length() {
    return keys[0] == null ? 0 : keys[0].getShape().get(2);
  }

  @Override
  public void close() {
    manager.close();
  }
}
