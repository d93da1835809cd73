package io.perlspark.jobs.train;

import io.perlspark.model.tokenizer.TextTokenizer;
import java.util.Arrays;

/** The token targets of an SFT response: the response's tokens followed by eos. */
public final class SftTargets {
  private SftTargets() {}

  public static int[] tokens(TextTokenizer tokenizer, String response) {
    if (response == null || response.isBlank()) {
      throw new IllegalArgumentException("an SFT row needs a non-empty 'response'");
    }
    int[] body = tokenizer.encode(response);
    int[] out = Arrays.copyOf(body, body.length + 1);
    out[body.length] = tokenizer.eosId();
    return out;
  }
}
