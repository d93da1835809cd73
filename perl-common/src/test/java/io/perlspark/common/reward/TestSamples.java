package io.perlspark.common.reward;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.util.List;

final class TestSamples {
  private TestSamples() {}

  static Sample sample(String answer, AnswerKind kind) {
    return new Sample("s-" + kind.wireName(), List.of(), "Which image? <image>", answer, kind, false,
        List.of(), "test", "unit", List.of());
  }
}
