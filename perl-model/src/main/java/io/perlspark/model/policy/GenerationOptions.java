package io.perlspark.model.policy;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * How to sample responses.
 *
 * @param temperature logits are divided by it before the softmax; 0 means greedy (argmax)
 * @param topP nucleus sampling: sample only from the smallest set of most likely tokens whose
 *     probability reaches {@code topP}; 1 samples from the whole distribution
 * @param maxNewTokens the most tokens generated per prompt (fewer if {@code maxSeqLen} is reached)
 * @param seeds one seed per prompt; sequence {@code i} samples from {@code new
 *     SplittableRandom(seeds[i])}, so its tokens do not depend on the other prompts of the batch
 * @param ignoreEos keep generating after eos (eos is then an ordinary token): every response gets
 *     exactly {@code maxNewTokens} tokens (within maxSeqLen); for throughput benchmarks
 */
public record GenerationOptions(
    float temperature, float topP, int maxNewTokens, long[] seeds, boolean ignoreEos)
    implements Serializable {

  public GenerationOptions {
    Objects.requireNonNull(seeds, "seeds");
    if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException(
          "temperature=" + temperature + " must be >= 0 and finite (0 means greedy)");
    }
    if (!(topP > 0f && topP <= 1f)) {
      throw new IllegalArgumentException("topP=" + topP + " must be in (0, 1]");
    }
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("maxNewTokens=" + maxNewTokens + " must be >= 1");
    }
  }

  public GenerationOptions(float temperature, float topP, int maxNewTokens, long[] seeds) {
    this(temperature, topP, maxNewTokens, seeds, false);
  }

  public static Builder builder() {
    return new Builder();
  }

  public boolean greedy() {
    return temperature == 0f;
  }

  /** The same options with other seeds (one per prompt). */
  public GenerationOptions withSeeds(long... newSeeds) {
    return new GenerationOptions(temperature, topP, maxNewTokens, newSeeds.clone(), ignoreEos);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationOptions other
        && Float.compare(temperature, other.temperature) == 0
        && Float.compare(topP, other.topP) == 0
        && maxNewTokens == other.maxNewTokens
        && Arrays.equals(seeds, other.seeds)
        && ignoreEos == other.ignoreEos;
  }

  @Override
  public int hashCode() {
    return Objects.hash(temperature, topP, maxNewTokens, Arrays.hashCode(seeds), ignoreEos);
  }

  @Override
  public String toString() {
    return "GenerationOptions(temperature="
        + temperature
        + ", topP="
        + topP
        + ", maxNewTokens="
        + maxNewTokens
        + ", "
        + seeds.length
        + " seeds"
        + (ignoreEos ? ", ignoreEos" : "")
        + ")";
  }

  /** Builder; the defaults are temperature 1, topP 1, 32 new tokens. */
  public static final class Builder {
    private float temperature = 1f;
    private float topP = 1f;
    private int maxNewTokens = 32;
    private long[] seeds;
    private boolean ignoreEos;

    private Builder() {}

    public Builder optTemperature(float temperature) {
      this.temperature = temperature;
      return this;
    }

    public Builder optTopP(float topP) {
      this.topP = topP;
      return this;
    }

    public Builder optMaxNewTokens(int maxNewTokens) {
      this.maxNewTokens = maxNewTokens;
      return this;
    }

    /** One seed per prompt of the batch (required). */
    public Builder setSeeds(long... seeds) {
      this.seeds = seeds.clone();
      return this;
    }

    /** Generate exactly maxNewTokens tokens, not stopping at eos (benchmarks). */
    public Builder optIgnoreEos(boolean ignoreEos) {
      this.ignoreEos = ignoreEos;
      return this;
    }

    public GenerationOptions build() {
      if (seeds == null) {
        throw new IllegalArgumentException("GenerationOptions need seeds: one per prompt");
      }
      return new GenerationOptions(temperature, topP, maxNewTokens, seeds, ignoreEos);
    }
  }
}
