package io.perlspark.common.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SynthOptionsTest {

  @Test
  void defaultsAreTheCalibratedSizes() {
    SynthOptions o = SynthOptions.defaults();
    assertEquals(24, o.imageSize());
    assertEquals(5, o.minRadius());
    assertEquals(9, o.maxRadius());
    assertEquals(0.6, o.minIntensity());
    assertEquals(1.0, o.maxIntensity());
    assertEquals(0.05, o.noiseSigma());
    assertEquals(2, o.minImages());
    assertEquals(4, o.maxImages());
    assertNull(o.fixedImageCount());
    assertEquals(0.7, o.distractorSimilarity());
    assertEquals(0.6, o.trainPositionBias());
    assertEquals(Map.of(Family.WHICH_IMAGE, 1.0), o.familyWeights());
  }

  @Test
  void builderRoundTripsAndZeroWeightsAreDropped() {
    SynthOptions o = SynthOptions.builder()
        .setTrainPositionBias(0.8)
        .optFixedImageCount(3)
        .setFamilyWeightsByName(Map.of("which-image", 2.0, "single", 1.0, "count", 0.0))
        .build();
    assertEquals(0.8, o.trainPositionBias());
    assertEquals(3, o.fixedImageCount());
    assertEquals(Map.of(Family.WHICH_IMAGE, 2.0, Family.SINGLE, 1.0), o.familyWeights());
    assertEquals(o, o.toBuilder().build());
    assertEquals(3, o.minImagesFor(Family.WHICH_OPTION));
    assertEquals(3, o.maxImagesFor(Family.WHICH_OPTION));
    assertEquals(1, o.maxImagesFor(Family.SINGLE));
  }

  @Test
  void orderIsCappedByHowManyDistinctSizesFit() {
    SynthOptions o = SynthOptions.builder().setFamilyWeights(SynthOptions.uniformFamilyWeights()).build();
    assertEquals(3, o.orderMaxImages()); // radii 5, 7, 9
    assertEquals(3, o.maxImagesFor(Family.ORDER));
    assertEquals(4, o.maxImagesFor(Family.WHICH_IMAGE));
  }

  @Test
  void invalidValuesNameTheField() {
    assertMessage("imageSize", () -> SynthOptions.builder().setImageSize(4).build());
    assertMessage("maxRadius", () -> SynthOptions.builder().setRadiusRange(5, 13).build());
    assertMessage("maxRadius", () -> SynthOptions.builder().setRadiusRange(6, 5).build());
    assertMessage("minIntensity", () -> SynthOptions.builder().setIntensityRange(0.0, 1.0).build());
    assertMessage("maxIntensity", () -> SynthOptions.builder().setIntensityRange(0.6, 1.2).build());
    assertMessage("noiseSigma", () -> SynthOptions.builder().setNoiseSigma(Double.NaN).build());
    assertMessage("minImages", () -> SynthOptions.builder().setImageCountRange(1, 4).build());
    assertMessage("maxImages", () -> SynthOptions.builder().setImageCountRange(3, 2).build());
    assertMessage("maxImages", () -> SynthOptions.builder().setImageCountRange(2, 10).build());
    assertMessage("fixedImageCount", () -> SynthOptions.builder().optFixedImageCount(1).build());
    assertMessage("distractorSimilarity", () -> SynthOptions.builder().setDistractorSimilarity(1.1).build());
    assertMessage("trainPositionBias", () -> SynthOptions.builder().setTrainPositionBias(-0.1).build());
    assertMessage("familyWeights.count", () -> SynthOptions.builder().setFamilyWeight(Family.COUNT, -1).build());
    assertMessage("familyWeights", () -> SynthOptions.builder().setFamilyWeights(Map.of()).build());
    Map<Family, Double> withNull = new HashMap<>();
    withNull.put(null, 1.0);
    assertMessage("null family", () -> SynthOptions.builder().setFamilyWeights(withNull).build());
    assertMessage("allowed: which_image", () -> SynthOptions.builder().setFamilyWeightsByName(Map.of("colours", 1.0)).build());
    assertMessage("fixedImageCount 4 is too many for the order family",
        () -> SynthOptions.builder().setFamilyWeight(Family.ORDER, 1).optFixedImageCount(4).build());
    assertMessage("minImages 4 is too many for the order family",
        () -> SynthOptions.builder().setFamilyWeight(Family.ORDER, 1).setImageCountRange(4, 4).build());
  }

  @Test
  void optionsSurviveJavaSerialisation() throws Exception {
    SynthOptions o = SynthOptions.builder().setFamilyWeights(SynthOptions.uniformFamilyWeights()).build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
      out.writeObject(new SyntheticBenchmark(o, 3));
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(o, in.readObject());
      SyntheticBenchmark copy = (SyntheticBenchmark) in.readObject();
      assertEquals(new SyntheticBenchmark(o, 3).generate(Split.EVAL, 17), copy.generate(Split.EVAL, 17));
    }
  }

  private static void assertMessage(String expected, Supplier<SynthOptions> build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
    assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
  }
}
