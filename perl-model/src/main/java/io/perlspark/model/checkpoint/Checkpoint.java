package io.perlspark.model.checkpoint;

import io.perlspark.model.learn.AdamW;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything needed to resume training at {@code step}.
 *
 * @param step the number of optimizer steps done
 * @param parameters the policy parameters, as bytes produced by the caller (e.g. the model's
 *     parametersToBytes); stored verbatim
 * @param optimizerState the AdamW state
 * @param trainerState the trainer's own state (data cursor, RNG state, stage, …), values typically
 *     JSON; kept sorted by key
 * @param provenance where this checkpoint came from
 */
public record Checkpoint(
    long step, byte[] parameters, AdamW.State optimizerState, Map<String, String> trainerState, Provenance provenance) {

  public Checkpoint {
    if (step < 0) {
      throw new IllegalArgumentException("checkpoint step must be >= 0, got " + step);
    }
    Objects.requireNonNull(parameters, "parameters");
    Objects.requireNonNull(optimizerState, "optimizerState");
    Objects.requireNonNull(provenance, "provenance");
    trainerState = Collections.unmodifiableMap(new TreeMap<>(trainerState == null ? Map.of() : trainerState));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c
        && step == c.step
        && Arrays.equals(parameters, c.parameters)
        && optimizerState.equals(c.optimizerState)
        && trainerState.equals(c.trainerState)
        && provenance.equals(c.provenance);
  }

  @Override
  public int hashCode() {
    return Objects.hash(step, Arrays.hashCode(parameters), optimizerState, trainerState, provenance);
  }

  @Override
  public String toString() {
    return "Checkpoint[step=" + step + ", parameters=" + parameters.length + " bytes, " + optimizerState
        + ", trainerState=" + trainerState.keySet() + "]";
  }
}
