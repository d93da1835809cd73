package io.perlspark.common.synth;

import java.io.Serializable;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Settings of the synthetic benchmark. Defaults follow /work/shared/CALIBRATION.md (the sizes a
 * tiny model learns from in minutes): 24 px images, radius 5–9, intensity 0.6–1.0, noise σ 0.05,
 * 2–4 images, distractor similarity 0.7, only the {@code which_image} family.
 *
 * @param imageSize width and height of every image, pixels
 * @param minRadius smallest shape radius, pixels
 * @param maxRadius largest shape radius, pixels; a shape is 2·radius wide and must fit the image
 * @param minIntensity smallest colour intensity, in (0, 1]
 * @param maxIntensity largest colour intensity, in [minIntensity, 1]
 * @param noiseSigma Gaussian pixel noise standard deviation on the [0, 1] scale
 * @param minImages fewest images of a multi-image sample (uniform between min and max)
 * @param maxImages most images of a multi-image sample
 * @param fixedImageCount when not null, every multi-image sample has exactly this many images
 *     (isolates positional bias; min/max are then ignored)
 * @param distractorSimilarity probability that a which_image / which_option distractor shares
 *     exactly one attribute (colour or shape) with the target; otherwise it shares none
 * @param trainPositionBias probability that the answer image of a which_image / which_option sample
 *     of the train and SFT splits sits in slot 1; otherwise it is uniform over the other slots
 *     (so 1/n would be unbiased, 0 means "never first"). The demo uses 0.8.
 * @param familyWeights relative frequency of each task family; families not listed have weight 0
 */
public record SynthOptions(
    int imageSize,
    int minRadius,
    int maxRadius,
    double minIntensity,
    double maxIntensity,
    double noiseSigma,
    int minImages,
    int maxImages,
    Integer fixedImageCount,
    double distractorSimilarity,
    double trainPositionBias,
    Map<Family, Double> familyWeights)
    implements Serializable {

  /**
   * The most images a sample may have: one option letter (a–i) and one digit (1–9) each, so the
   * vocabulary stays fixed; more would not fit a tiny model's context anyway.
   */
  public static final int MAX_IMAGES = 9;
  /** Radii of the order family's images differ by at least this much, so their sizes are visibly distinct. */
  public static final int ORDER_RADIUS_GAP = 2;
  private static final int MIN_IMAGE_SIZE = 8;
  private static final int MAX_IMAGE_SIZE = 512;
  private static final String P = "SynthOptions.";

  public SynthOptions {
    requireRange("imageSize", imageSize, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE);
    requireRange("minRadius", minRadius, 2, MAX_IMAGE_SIZE);
    if (maxRadius < minRadius) {
      throw new IllegalArgumentException(P + "maxRadius must be >= minRadius (" + minRadius + "), got " + maxRadius);
    }
    if (2 * maxRadius > imageSize) {
      throw new IllegalArgumentException(P + "maxRadius " + maxRadius + " is too large for imageSize "
          + imageSize + ": a shape is 2·radius wide, so maxRadius must be <= " + imageSize / 2);
    }
    if (!(minIntensity > 0.0 && minIntensity <= 1.0)) {
      throw new IllegalArgumentException(P + "minIntensity must be in (0, 1], got " + minIntensity);
    }
    if (!(maxIntensity >= minIntensity && maxIntensity <= 1.0)) {
      throw new IllegalArgumentException(P + "maxIntensity must be in [minIntensity (" + minIntensity
          + "), 1], got " + maxIntensity);
    }
    if (!(noiseSigma >= 0.0 && noiseSigma <= 1.0)) {
      throw new IllegalArgumentException(P + "noiseSigma must be in [0, 1] (the pixel scale), got " + noiseSigma);
    }
    requireRange("minImages", minImages, 2, MAX_IMAGES);
    requireRange("maxImages", maxImages, minImages, MAX_IMAGES);
    if (fixedImageCount != null) {
      requireRange("fixedImageCount", fixedImageCount, 2, MAX_IMAGES);
    }
    requireProbability("distractorSimilarity", distractorSimilarity);
    requireProbability("trainPositionBias", trainPositionBias);
    familyWeights = validWeights(familyWeights);
    if (familyWeights.getOrDefault(Family.ORDER, 0.0) > 0) {
      int sizes = (maxRadius - minRadius) / ORDER_RADIUS_GAP + 1;
      int fewest = fixedImageCount != null ? fixedImageCount : minImages;
      if (fewest > sizes) {
        throw new IllegalArgumentException(P + (fixedImageCount != null ? "fixedImageCount " : "minImages ")
            + fewest + " is too many for the order family: radii " + minRadius + ".." + maxRadius
            + " give at most " + sizes + " sizes that differ by >= " + ORDER_RADIUS_GAP
            + " px; widen the radius range, use fewer images, or set familyWeights.order to 0");
      }
    }
  }

  /** The calibrated defaults. */
  public static SynthOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Every family with weight 1: a convenience for mixed runs. */
  public static Map<Family, Double> uniformFamilyWeights() {
    Map<Family, Double> w = new EnumMap<>(Family.class);
    for (Family f : Family.values()) {
      w.put(f, 1.0);
    }
    return Collections.unmodifiableMap(w);
  }

  /** The weight of a family (0 when absent). */
  public double weight(Family family) {
    return familyWeights.getOrDefault(family, 0.0);
  }

  /** The most images an {@code order} sample can have: how many radii ORDER_RADIUS_GAP apart fit the range. */
  public int orderMaxImages() {
    return (maxRadius - minRadius) / ORDER_RADIUS_GAP + 1;
  }

  /** Smallest image count a sample of this family can have. */
  public int minImagesFor(Family family) {
    if (family == Family.SINGLE) {
      return 1;
    }
    return fixedImageCount != null ? fixedImageCount : minImages;
  }

  /** Largest image count a sample of this family can have ({@code order} is capped by the radius range). */
  public int maxImagesFor(Family family) {
    if (family == Family.SINGLE) {
      return 1;
    }
    int max = fixedImageCount != null ? fixedImageCount : maxImages;
    return family == Family.ORDER ? Math.min(max, orderMaxImages()) : max;
  }

  private static void requireRange(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(P + field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }

  private static void requireProbability(String field, double value) {
    if (!(value >= 0.0 && value <= 1.0)) {
      throw new IllegalArgumentException(P + field + " must be a probability in [0, 1], got " + value);
    }
  }

  private static Map<Family, Double> validWeights(Map<Family, Double> weights) {
    if (weights == null) {
      throw new IllegalArgumentException(P + "familyWeights is missing; give at least one family a weight > 0");
    }
    // EnumMap: iteration in enum order, so weighted draws do not depend on the map implementation.
    Map<Family, Double> copy = new EnumMap<>(Family.class);
    double total = 0;
    for (Map.Entry<Family, Double> e : weights.entrySet()) {
      if (e.getKey() == null) {
        throw new IllegalArgumentException(P + "familyWeights has a null family; allowed: " + allowedFamilies());
      }
      Double w = e.getValue();
      if (w == null || !(w >= 0.0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException(P + "familyWeights." + e.getKey().wireName()
            + " must be a finite number >= 0, got " + w);
      }
      if (w > 0) {
        copy.put(e.getKey(), w);
        total += w;
      }
    }
    if (total <= 0) {
      throw new IllegalArgumentException(P + "familyWeights gives no family a weight > 0; allowed families: "
          + allowedFamilies());
    }
    return Collections.unmodifiableMap(copy);
  }

  private static String allowedFamilies() {
    StringBuilder sb = new StringBuilder();
    for (Family f : Family.values()) {
      sb.append(sb.length() == 0 ? "" : ", ").append(f.wireName());
    }
    return sb.toString();
  }

  /** Builder starting from the calibrated defaults. */
  public static final class Builder {
    private int imageSize = 24;
    private int minRadius = 5;
    private int maxRadius = 9;
    private double minIntensity = 0.6;
    private double maxIntensity = 1.0;
    private double noiseSigma = ShapeRenderer.DEFAULT_NOISE_SIGMA;
    private int minImages = 2;
    private int maxImages = 4;
    private Integer fixedImageCount;
    private double distractorSimilarity = 0.7;
    private double trainPositionBias = 0.6;
    // A plain map, so a null key reaches the record's validation and its clear message.
    private final Map<Family, Double> familyWeights = new java.util.LinkedHashMap<>();

    private Builder() {
      familyWeights.put(Family.WHICH_IMAGE, 1.0);
    }

    private Builder(SynthOptions o) {
      imageSize = o.imageSize;
      minRadius = o.minRadius;
      maxRadius = o.maxRadius;
      minIntensity = o.minIntensity;
      maxIntensity = o.maxIntensity;
      noiseSigma = o.noiseSigma;
      minImages = o.minImages;
      maxImages = o.maxImages;
      fixedImageCount = o.fixedImageCount;
      distractorSimilarity = o.distractorSimilarity;
      trainPositionBias = o.trainPositionBias;
      familyWeights.putAll(o.familyWeights);
    }

    public Builder setImageSize(int v) {
      imageSize = v;
      return this;
    }

    public Builder setRadiusRange(int min, int max) {
      minRadius = min;
      maxRadius = max;
      return this;
    }

    public Builder setIntensityRange(double min, double max) {
      minIntensity = min;
      maxIntensity = max;
      return this;
    }

    public Builder setNoiseSigma(double v) {
      noiseSigma = v;
      return this;
    }

    public Builder setImageCountRange(int min, int max) {
      minImages = min;
      maxImages = max;
      return this;
    }

    /** Every multi-image sample gets exactly this many images; null restores the min–max range. */
    public Builder optFixedImageCount(Integer v) {
      fixedImageCount = v;
      return this;
    }

    public Builder setDistractorSimilarity(double v) {
      distractorSimilarity = v;
      return this;
    }

    public Builder setTrainPositionBias(double v) {
      trainPositionBias = v;
      return this;
    }

    /** Replaces all family weights. */
    public Builder setFamilyWeights(Map<Family, Double> weights) {
      familyWeights.clear();
      if (weights != null) {
        familyWeights.putAll(weights);
      }
      return this;
    }

    /** Replaces all family weights, keyed by wire name (e.g. from a config file). */
    public Builder setFamilyWeightsByName(Map<String, Double> weights) {
      familyWeights.clear();
      if (weights != null) {
        weights.forEach((name, w) -> familyWeights.put(Family.parse(name), w));
      }
      return this;
    }

    public Builder setFamilyWeight(Family family, double weight) {
      familyWeights.put(family, weight);
      return this;
    }

    public SynthOptions build() {
      return new SynthOptions(imageSize, minRadius, maxRadius, minIntensity, maxIntensity, noiseSigma,
          minImages, maxImages, fixedImageCount, distractorSimilarity, trainPositionBias, familyWeights);
    }
  }
}
