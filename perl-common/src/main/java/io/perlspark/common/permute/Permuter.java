package io.perlspark.common.permute;

import io.perlspark.common.Seeds;
import io.perlspark.common.data.Sample;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * PeRL's permutation transform: each prompt becomes itself plus {@code k} permuted copies, all in
 * one GRPO group.
 *
 * <p>Randomness is a pure function of (seed, step, sample id, copy), so a Spark task gives the
 * same copies whichever executor runs it and however often it is retried. The run seed is salted
 * for this purpose first, so these draws are independent of rollout sampling that derives its
 * generators from the same run seed and the same (step, id, copy, index) tuples.
 */
public final class Permuter implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Salt that separates the permutation streams from other users of the run seed. */
  private static final long DOMAIN = Seeds.hash("perl.permute");
  /** The coin is drawn at copy 0; permutations at copies 1..k. */
  private static final int COIN_COPY = 0;

  /**
   * Settings of the transform.
   *
   * @param slots which image slots may move
   * @param copies permuted copies per selected prompt (k ≥ 0; the paper's default is 1)
   * @param schedule probability that a prompt gets its copies at a step
   * @param seed run seed
   */
  public record Config(SlotSelection slots, int copies, DecaySchedule schedule, long seed) implements Serializable {
    public Config {
      Objects.requireNonNull(slots, "slots");
      Objects.requireNonNull(schedule, "schedule");
      if (copies < 0) {
        throw new IllegalArgumentException("permutation copies must be >= 0, got " + copies);
      }
    }
  }

  private final Config config;
  private final long streamSeed;

  public Permuter(Config config) {
    this.config = Objects.requireNonNull(config, "config");
    this.streamSeed = Seeds.derive(config.seed(), DOMAIN);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Config config() {
    return config;
  }

  /**
   * The original (copy 0, identity order) followed, when the sample is eligible and the step's
   * coin with probability {@code p(step)} falls, by {@code k} permuted copies. One coin per
   * (seed, step, sample): all copies or none. Each copy's order is uniform among the non-identity
   * orders of the movable slots, independently per copy.
   */
  public List<PermutedSample> expand(Sample original, long step, long totalSteps) {
    String id = original.id();
    String group = PermutedSample.groupId(id, step);
    List<PermutedSample> out = new ArrayList<>(1 + config.copies());
    out.add(new PermutedSample(original, group, 0, Permutations.identity(original.imageCount()), id));
    if (config.copies() == 0 || !permutesAt(original, step, totalSteps)) {
      return out;
    }
    int[] movable = config.slots().slotsFor(original.imageCount());
    for (int copy = 1; copy <= config.copies(); copy++) {
      int[] order = Permutations.randomNonIdentity(original.imageCount(), movable, rng(step, id, copy));
      Sample permuted = apply(original, order).withId(PermutedSample.copyId(id, copy));
      out.add(new PermutedSample(permuted, group, copy, order, id));
    }
    return out;
  }

  /** Whether {@link #expand} adds copies for this sample at this step (eligible and the coin falls). */
  public boolean permutesAt(Sample s, long step, long totalSteps) {
    if (!PermutationEligibility.check(s, config.slots()).isPermutable()) {
      return false;
    }
    double p = config.schedule().probability(step, totalSteps);
    return rng(step, s.id(), COIN_COPY).nextDouble() < p;
  }

  /**
   * The sample with its images reordered ({@code new[j] = old[order[j]]}) and its answer
   * remapped; id and text unchanged. For evaluation under every permutation, see
   * {@link Permutations#sample}.
   */
  public static Sample apply(Sample s, int[] order) {
    String answer = AnswerRemapper.remap(s, order); // validates the order first
    return s.withImagesAndAnswer(Permutations.reorder(s.images(), order), answer);
  }

  private SplittableRandom rng(long step, String sampleId, int copy) {
    return Seeds.rng(streamSeed, step, sampleId, copy, 0);
  }

  @Override
  public String toString() {
    return "Permuter[slots=" + config.slots() + ", copies=" + config.copies() + ", schedule=" + config.schedule()
        + ", seed=" + config.seed() + "]";
  }

  /** Builder: the seed is required; defaults: all slots, 1 copy, linear(1, 0) as in the paper. */
  public static final class Builder {
    private SlotSelection slots = SlotSelection.all();
    private int copies = 1;
    private DecaySchedule schedule = DecaySchedule.linear(1.0, 0.0);
    private Long seed;

    private Builder() {}

    /** The run seed; required so that no permutation stream is seeded by accident. */
    public Builder setSeed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder optSlots(SlotSelection slots) {
      this.slots = slots;
      return this;
    }

    /** Slot selection in text form: {@code all}, {@code skip-first:N}, {@code list:i,j}. */
    public Builder optSlots(String text) {
      this.slots = SlotSelection.parse(text);
      return this;
    }

    public Builder optCopies(int copies) {
      this.copies = copies;
      return this;
    }

    public Builder optSchedule(DecaySchedule schedule) {
      this.schedule = schedule;
      return this;
    }

    public Permuter build() {
      if (seed == null) {
        throw new IllegalStateException("Permuter.builder(): setSeed(...) is required");
      }
      return new Permuter(new Config(slots, copies, schedule, seed));
    }
  }
}
