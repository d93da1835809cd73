package io.perlspark.model.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * {@link TokenSampler}'s rule run where the logits are: given {@code [B, V]} logits on the model's
 * device, picks one token per row there and brings back only the B ids and their B log-probs (one
 * transfer of {@code 2 * B} doubles), instead of the {@code B * V} logits.
 *
 * <p>The randomness stays in Java: sequence b owns {@code SplittableRandom(seeds[b])} and draws
 * one uniform per sampled token (none when greedy, none while the row is inactive), exactly as
 * {@link TokenSampler}; the B uniforms go to the device and pick by inverse CDF. So a sequence's
 * tokens depend only on its seed and its logits, and a retry reproduces them.
 *
 * <p>The rule, as TokenSampler, in float64: weights {@code exp(logits / T - max)}, banned ids
 * weight 0; greedy is the first maximum of the unbanned raw logits (in float32, exact for an
 * argmax; its log-probs are then float32 too); without top-p the uniform
 * scaled by the total weight is located in the cumulative weights in vocabulary order; with top-p
 * the ids are ordered by weight, descending, equal weights by ascending id, and the kept prefix is
 * the shortest whose weight reaches {@code topP * total}. The log-prob is under the full, unmasked
 * {@code log_softmax(logits / T)} (T = 1 when greedy). Known differences, all at the last bit of a
 * double: the totals are summed in libtorch's order (TokenSampler: sequentially; and it subtracts
 * the banned weights from the full sum), and on CUDA the cumulative sums are a parallel scan. A
 * token differs only when a uniform falls within that rounding of a boundary.
 *
 * <p>Holds per-vocabulary constants on the device in its own manager: close it.
 */
public final class DeviceSampler implements AutoCloseable {
  /**
   * Equal weights must keep ascending-id order, but DJL's descending sort is an ascending sort
   * flipped (equal keys then come out by descending id). So ties are made impossible: the sort
   * key is {@code -x + (|x| + 2^-120) * id * 2^-50} for float32 logits x in float64. The offset is
   * at most {@code 2^-32 |x|} (ids < 2^18), far under the gap to the next float32, so distinct
   * logits keep their order, and equal logits are ordered by id. The 2^-120 term separates ids of
   * a zero logit; it is under the gap to the smallest subnormal float.
   */
  private static final double TIE_STEP = 0x1p-50;
  private static final double ZERO_SEPARATION = 0x1p-120;

  private final NDManager manager;
  private final SplittableRandom[] rngs;
  private final float temperature;
  private final float topP;
  private final int vocab;
  /** {@code [V]} float64: {@code id * 2^-50}, the tie-breaking part of the sort key. */
  private final NDArray tieOffsets;
  /** {@code [V]} int64: {@code id + 1}, to find the last id of positive weight. */
  private final NDArray idsPlusOne;
  private final Banned none;

  /** Banned ids as device masks; made by {@link #ban} and owned by the sampler. */
  public static final class Banned {
    /** {@code [V]} float64: -inf at banned ids, else 0; null when nothing is banned. */
    private final NDArray additive;
    /** The same in float32, for the greedy path. */
    private final NDArray additive32;
    /** {@code [V]} float64: 0 at banned ids, else 1; null when nothing is banned. */
    private final NDArray keep;

    private Banned(NDArray additive, NDArray keep) {
      this.additive = additive;
      this.additive32 = additive == null ? null : additive.toType(DataType.FLOAT32, false);
      this.keep = keep;
    }
  }

  /**
   * What one step picked.
   *
   * @param ids {@code [B]} int64 on the logits' device and in their manager: feed it to the next
   *     step without a round trip
   * @param tokens the same ids in Java
   * @param logProbs the log-prob of each picked id (see the class comment)
   */
  public record Picks(NDArray ids, int[] tokens, float[] logProbs) {}

  public DeviceSampler(NDManager parent, GenerationOptions options, int vocab) {
    this(parent, options.seeds(), options.temperature(), options.topP(), vocab);
  }

  public DeviceSampler(NDManager parent, long[] seeds, float temperature, float topP, int vocab) {
    Objects.requireNonNull(seeds, "seeds");
    if (vocab < 1 || vocab >= 1 << 18) {
      // the tie-breaking offset assumes ids < 2^18 (see TIE_STEP)
      throw new IllegalArgumentException("vocab=" + vocab + " must be in [1, 262144)");
    }
    this.rngs = TokenSampler.streams(seeds);
    this.temperature = temperature;
    this.topP = topP;
    this.vocab = vocab;
    this.manager = parent.newSubManager();
    manager.setName("DeviceSampler");
    NDArray ids = manager.arange(0, vocab, 1, DataType.INT64);
    this.idsPlusOne = ids.add(1);
    this.tieOffsets = ids.toType(DataType.FLOAT64, false).mul(TIE_STEP);
    this.none = new Banned(null, null);
  }

  /**
   * A set of ids never picked (ids outside the vocabulary are ignored), as masks built once on the
   * device. Lives until the sampler is closed.
   */
  public Banned ban(int... ids) {
    if (ids.length == 0) {
      return none;
    }
    double[] additive = new double[vocab];
    boolean any = false;
    for (int id : ids) {
      if (id >= 0 && id < vocab) {
        additive[id] = Double.NEGATIVE_INFINITY;
        any = true;
      }
    }
    if (!any) {
      return none;
    }
    // duplicate(): PyTorch-owned memory, not the Java buffer create() wraps (see Constants).
    NDArray mask;
    try (NDArray javaBacked = manager.create(additive)) {
      mask = javaBacked.duplicate();
    }
    mask.attach(manager);
    return new Banned(mask, mask.exp());
  }

  /** The set of no banned ids. */
  public Banned none() {
    return none;
  }

  /**
   * Picks the next token of every row from {@code logits [B, V]} (any float type; on any device).
   * Rows with {@code active[b] == false} draw no random number and their picks are meaningless.
   * The returned {@link Picks#ids()} joins the logits' manager.
   */
  public Picks next(NDArray logits, boolean[] active, Banned banned) {
    Objects.requireNonNull(banned, "banned");
    Shape shape = logits.getShape();
    int batch = rngs.length;
    if (shape.dimension() != 2 || shape.get(0) != batch || shape.get(1) != vocab) {
      throw new IllegalArgumentException("logits " + shape + " must be [" + batch + ", " + vocab
          + "] (one row per seed)");
    }
    if (active.length != batch) {
      throw new IllegalArgumentException(active.length + " active flags for " + batch + " rows");
    }
    boolean greedy = temperature == 0f;
    double[] uniforms = greedy ? null : new double[batch];
    if (!greedy) {
      for (int b = 0; b < batch; b++) {
        if (active[b]) {
          uniforms[b] = rngs[b].nextDouble();
        }
      }
    }
    NDManager out = logits.getManager();
    try (NDManager scope = out.newSubManager()) {
      scope.tempAttachAll(logits); // so that every temporary below joins the scope
      NDArray token;
      NDArray shifted;
      NDArray logTotal;
      NDArray keptWeights = null;
      if (greedy) {
        // float32 is exact for the argmax (the first maximum, as TokenSampler's strict '>' scan)
        // and is what the log-probs need: half the memory traffic of float64
        NDArray raw = logits.toType(DataType.FLOAT32, false);
        token = (banned.additive32 == null ? raw : raw.add(banned.additive32)).argMax(1);
        shifted = raw.sub(raw.max(new int[] {1}, true));
        logTotal = shifted.exp().sum(new int[] {1}, true).log();
      } else {
        // float64, as TokenSampler: the inverse CDF then lands where the Java rule lands
        NDArray raw = logits.toType(DataType.FLOAT64, false);
        NDArray z = temperature == 1f ? raw : raw.div(Constants.scalar(raw, temperature));
        shifted = z.sub(z.max(new int[] {1}, true));
        NDArray weights = shifted.exp();
        logTotal = weights.sum(new int[] {1}, true).log();
        NDArray kept = banned.keep == null ? weights : weights.mul(banned.keep);
        NDArray u;
        try (NDArray javaBacked = scope.create(uniforms, new Shape(batch, 1))) {
          u = javaBacked.duplicate(); // PyTorch-owned memory, not the Java buffer (see Constants)
        }
        u.attach(scope);
        token = topP < 1f ? nucleus(raw, kept, u, banned) : inverseCdf(kept, u);
        keptWeights = kept;
      }
      NDArray logProb = shifted.gather(token.reshape(batch, 1), 1).sub(logTotal)
          .toType(DataType.FLOAT64, false).reshape(batch);
      // One device-to-host transfer per step: ids (exact in a double) and log-probs.
      double[] both = NDArrays.stack(new NDList(token.toType(DataType.FLOAT64, false), logProb))
          .toDoubleArray();
      int[] tokens = new int[batch];
      float[] logProbs = new float[batch];
      boolean offTheEnd = false;
      for (int b = 0; b < batch; b++) {
        tokens[b] = (int) both[b];
        logProbs[b] = (float) both[batch + b];
        offTheEnd |= tokens[b] >= vocab;
      }
      if (offTheEnd) {
        token = lastPositive(keptWeights, token);
        double[] again = NDArrays.stack(new NDList(token.toType(DataType.FLOAT64, false),
            shifted.gather(token.reshape(batch, 1), 1).sub(logTotal)
                .toType(DataType.FLOAT64, false).reshape(batch))).toDoubleArray();
        for (int b = 0; b < batch; b++) {
          tokens[b] = (int) again[b];
          logProbs[b] = (float) again[batch + b];
        }
      }
      NDArray ids = token.reshape(batch);
      ids.attach(out);
      return new Picks(ids, tokens, logProbs);
    }
  }

  /**
   * The first id whose cumulative weight (vocabulary order) exceeds {@code u * total}; {@code V}
   * when {@code u * total} rounded up to the total (see {@link #lastPositive}).
   */
  private static NDArray inverseCdf(NDArray kept, NDArray u) {
    NDArray cumulative = kept.cumSum(1);
    NDArray target = u.mul(cumulative.get(":, -1:"));
    return countAtMost(cumulative, target).reshape(-1);
  }

  /**
   * Where {@code u * total} rounded up to the total (probability about 2^-53 per draw), TokenSampler
   * takes the last id of positive weight: so does this, on the rows whose pick fell off the end.
   */
  private NDArray lastPositive(NDArray kept, NDArray token) {
    NDArray last = kept.gt(0).toType(DataType.INT64, false).mul(idsPlusOne)
        .max(new int[] {1}).sub(1);
    return token.minimum(last);
  }

  /** Per row, how many entries of a non-decreasing row are at most the row's target. */
  private static NDArray countAtMost(NDArray nonDecreasing, NDArray target) {
    return nonDecreasing.lte(target).sum(new int[] {1}, true);
  }

  /** Inverse CDF within the shortest most-likely prefix whose weight reaches topP * total. */
  private NDArray nucleus(NDArray raw, NDArray kept, NDArray u, Banned banned) {
    NDArray key = raw.abs().add(ZERO_SEPARATION).mul(tieOffsets).sub(raw);
    if (banned.additive != null) {
      key = key.sub(banned.additive); // banned ids last
    }
    NDArray order = key.argSort(1, true);
    NDArray sorted = kept.gather(order, 1);
    NDArray cumulative = sorted.cumSum(1);
    NDArray threshold = kept.sum(new int[] {1}, true).mul(Constants.scalar(kept, topP));
    NDArray positive = kept.gt(0).sum(new int[] {1}, true);
    NDArray size = cumulative.lt(threshold).sum(new int[] {1}, true).add(1).minimum(positive);
    NDArray lastKept = size.sub(1);
    NDArray target = u.mul(cumulative.gather(lastKept, 1));
    NDArray at = countAtMost(cumulative, target).minimum(lastKept);
    return order.gather(at, 1).reshape(rngs.length);
  }

  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "DeviceSampler(temperature=" + temperature + ", topP=" + topP + ", vocab=" + vocab
        + ", " + rngs.length + " rows)";
  }
}
