package io.perlspark.model.train;

import io.perlspark.model.policy.PolicyInput;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One supervised example: a prompt and the target response (token ids, eos included when the
 * model should learn to stop).
 */
public record SftExample(PolicyInput prompt, int[] response) implements Serializable {

  public SftExample {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(response, "response");
  }

  public int tokenCount() {
    return response.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SftExample other
        && prompt.equals(other.prompt)
        && Arrays.equals(response, other.response);
  }

  @Override
  public int hashCode() {
    return 31 * prompt.hashCode() + Arrays.hashCode(response);
  }

  @Override
  public String toString() {
    return "SftExample(" + prompt + ", " + response.length + " response tokens)";
  }
}
