package io.perlspark.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.perlspark.model.loss.LossStats;
import io.perlspark.model.policy.PolicyInput;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

class GradientResultTest {
  static final LossStats STATS = new LossStats(0.5, 3, 1, 1.5, 0.2, 1, 0, 3.1);

  @Test
  void mergeSumsEverythingAndLeavesTheInputsAlone() {
    GradientResult a = GradientResult.grpo(new float[] {1, 2}, STATS, 3, 2, 1.0);
    GradientResult b = GradientResult.grpo(new float[] {10, 20}, STATS, 3, 1, 0.5);
    GradientResult sum = a.merge(b);
    assertArrayEquals(new float[] {11, 22}, sum.gradient(), 0f);
    assertArrayEquals(new float[] {1, 2}, a.gradient(), 0f);
    assertEquals(STATS.merge(STATS), sum.stats());
    assertEquals(6, sum.tokens());
    assertEquals(3, sum.sequences());
    assertEquals(0.25, sum.meanEntropy());
    assertEquals(1.0, sum.loss());
    assertSame(a, a.merge(GradientResult.EMPTY));
    assertSame(a, GradientResult.EMPTY.merge(a));

    GradientResult sft = GradientResult.sft(new float[] {1, 2}, new SftStats(1, 3, 1, 3), 3, 1, 0);
    assertThrows(IllegalArgumentException.class, () -> a.merge(sft));
    GradientResult longer = GradientResult.grpo(new float[3], STATS, 3, 1, 0);
    assertThrows(IllegalArgumentException.class, () -> a.merge(longer));
  }

  @Test
  void examplesAndResultsSurviveJavaSerialization() throws Exception {
    TrainingExample e =
        new TrainingExample(
            new PolicyInput(new int[] {4, 7}, new float[][] {{0.5f, 0.25f}}),
            new int[] {5, 2}, new float[] {-1f, -2f}, null, 0.75);
    assertEquals(e, roundTrip(e));
    SftExample s = new SftExample(e.prompt(), e.response());
    assertEquals(s, roundTrip(s));
    GradientResult r = GradientResult.grpo(new float[] {1, 2}, STATS, 3, 2, 1.0);
    assertEquals(r, roundTrip(r));
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T value) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
