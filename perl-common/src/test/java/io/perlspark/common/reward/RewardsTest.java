package io.perlspark.common.reward;

import static io.perlspark.common.reward.TestSamples.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RewardsTest {
  private final WeightedReward standard = Rewards.standard(ResponseFormat.THINK_BOXED);
  private final Sample two = sample("2", AnswerKind.IMAGE_INDEX);

  @Test
  void standardRewardCombinesAccuracyAndFormat() {
    assertEquals(1.0, standard.weightSum(), 1e-12);
    assertEquals(1.0, standard.score("<think>t</think>\\boxed{2}", two).total(), 1e-12);
    assertEquals(0.9, standard.score("\\boxed{2}", two).total(), 1e-12);
    assertEquals(0.1, standard.score("<think>t</think>\\boxed{3}", two).total(), 1e-12);
    assertEquals(0.0, standard.score("2", two).total());
  }

  @Test
  void componentsAreRawValuesInStableOrder() {
    RewardResult r = standard.score("\\boxed{image 2}", two);
    assertEquals(List.of("accuracy", "format"), List.copyOf(r.components().keySet()));
    assertEquals(1.0, r.accuracy());
    assertEquals(0.0, r.format());
    assertEquals("image 2", r.extractedAnswer());
    assertThrows(UnsupportedOperationException.class, () -> r.components().put("x", 1.0));
  }

  @Test
  void customWeights() {
    WeightedReward w = Rewards.standard(0.5, 0.5, ResponseFormat.ANSWER_TAG);
    RewardResult r = w.score("<think>t</think><answer>3</answer>", two);
    assertEquals(0.5, r.total(), 1e-12);
    assertEquals(Map.of("accuracy", 0.0, "format", 1.0), r.components());
  }

  @Test
  void weightedRewardValidatesItsParts() {
    RewardFunction one = (resp, s) -> RewardResult.of(1.0, null);
    assertThrows(IllegalArgumentException.class, () -> new WeightedReward(List.of()));
    assertThrows(IllegalArgumentException.class, () -> new WeightedReward(List.of(
        new WeightedReward.Component("a", 1, one), new WeightedReward.Component("a", 1, one))));
    assertThrows(IllegalArgumentException.class, () -> new WeightedReward.Component("a", Double.NaN, one));
    assertThrows(IllegalArgumentException.class, () -> new WeightedReward.Component(" ", 1, one));
  }

  @Test
  void resultRejectsNonFiniteValuesAndReadsAbsentComponentsAsZero() {
    assertThrows(IllegalArgumentException.class, () -> RewardResult.of(Double.NaN, null));
    Map<String, Double> bad = new LinkedHashMap<>();
    bad.put("accuracy", Double.POSITIVE_INFINITY);
    assertThrows(IllegalArgumentException.class, () -> new RewardResult(0, bad, null));
    RewardResult r = RewardResult.of(0.3, null);
    assertEquals(0.0, r.accuracy());
    assertEquals(0.0, r.format());
    assertNull(r.extractedAnswer());
  }

  @Test
  void rewardAndResultSurviveJavaSerialization() throws Exception {
    RewardFunction copy = roundTrip(standard);
    RewardResult r = copy.score("<think>t</think>\\boxed{2}", two);
    assertEquals(1.0, r.total(), 1e-12);
    RewardResult back = roundTrip(r);
    assertEquals(r, back);
    assertEquals(List.of("accuracy", "format"), List.copyOf(back.components().keySet()));
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
