package io.perlspark.common.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class SyntheticBenchmarkPropertiesTest {

  /** Any valid options, seed, split and index: the item is correct and reproducible. */
  @Property(tries = 300)
  void anyItemIsCorrectAndReproducible(@ForAll("options") SynthOptions options, @ForAll long seed,
      @ForAll Split split, @ForAll @LongRange(min = 0, max = 10_000_000) long index) {
    SynthItem item = new SyntheticBenchmark(options, seed).generate(split, index);
    Oracle.check(item);
    int max = options.fixedImageCount() != null ? options.fixedImageCount() : options.maxImages();
    int n = item.sample().imageCount();
    if (item.family() != Family.SINGLE) {
      int min = options.fixedImageCount() != null ? options.fixedImageCount() : options.minImages();
      assertEquals(true, n >= min && n <= max, "image count " + n);
    }
    for (ShapeSpec s : item.shapes()) {
      assertEquals(true, s.radius() >= options.minRadius() && s.radius() <= options.maxRadius(), s.toString());
      assertEquals(true, s.intensity() >= options.minIntensity() && s.intensity() <= options.maxIntensity(), s.toString());
    }
    assertEquals(item, new SyntheticBenchmark(options, seed).generate(split, index));
  }

  @Provide
  Arbitrary<SynthOptions> options() {
    Arbitrary<int[]> radii = Arbitraries.integers().between(2, 8).flatMap(min ->
        Arbitraries.integers().between(min + 4, 12).map(max -> new int[] {min, max}));
    Arbitrary<int[]> counts = Arbitraries.integers().between(2, 3).flatMap(min ->
        Arbitraries.integers().between(min, SynthOptions.MAX_IMAGES).map(max -> new int[] {min, max}));
    Arbitrary<Integer> fixed = Arbitraries.integers().between(2, 3).injectNull(0.5);
    Arbitrary<Map<Family, Double>> weights = Arbitraries.doubles().between(0, 3).list().ofSize(Family.values().length)
        .filter(l -> l.stream().mapToDouble(Double::doubleValue).sum() > 0)
        .map(l -> {
          Map<Family, Double> w = new EnumMap<>(Family.class);
          for (Family f : Family.values()) {
            w.put(f, l.get(f.ordinal()));
          }
          return w;
        });
    Arbitrary<Double> probability = Arbitraries.doubles().between(0, 1);
    return Combinators.combine(radii, counts, fixed, weights, probability, probability, Arbitraries.of(0.0, 0.05, 0.2))
        .as((r, c, f, w, similarity, bias, noise) -> SynthOptions.builder()
            .setImageSize(32)
            .setRadiusRange(r[0], r[1])
            .setImageCountRange(c[0], c[1])
            .optFixedImageCount(f)
            .setFamilyWeights(w)
            .setDistractorSimilarity(similarity)
            .setTrainPositionBias(bias)
            .setNoiseSigma(noise)
            .build());
  }
}
