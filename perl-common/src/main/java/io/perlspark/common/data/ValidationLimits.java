package io.perlspark.common.data;

import java.io.Serializable;

/**
 * Limits a dataset row must respect to be accepted by {@code prepare}.
 *
 * @param maxImages most images per sample
 * @param minImages fewest images per sample (1: text-only rows are rejected)
 * @param maxPixels largest width × height of one image, checked from the header before decoding
 * @param maxImageBytes largest encoded size of one image
 * @param maxPromptChars longest prompt, in UTF-16 chars
 */
public record ValidationLimits(int maxImages, int minImages, long maxPixels, long maxImageBytes, int maxPromptChars)
    implements Serializable {

  public static final int DEFAULT_MAX_IMAGES = 8;
  public static final int DEFAULT_MIN_IMAGES = 1;
  public static final long DEFAULT_MAX_PIXELS = 4096L * 4096L;
  public static final long DEFAULT_MAX_IMAGE_BYTES = 20L * 1024 * 1024;
  public static final int DEFAULT_MAX_PROMPT_CHARS = 20_000;

  public ValidationLimits {
    if (minImages < 0) {
      throw new IllegalArgumentException("minImages must be >= 0, got " + minImages);
    }
    if (maxImages < minImages) {
      throw new IllegalArgumentException("maxImages (" + maxImages + ") must be >= minImages (" + minImages + ")");
    }
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels must be >= 1, got " + maxPixels);
    }
    if (maxImageBytes < 1) {
      throw new IllegalArgumentException("maxImageBytes must be >= 1, got " + maxImageBytes);
    }
    if (maxPromptChars < 1) {
      throw new IllegalArgumentException("maxPromptChars must be >= 1, got " + maxPromptChars);
    }
  }

  public static ValidationLimits defaults() {
    return new ValidationLimits(DEFAULT_MAX_IMAGES, DEFAULT_MIN_IMAGES, DEFAULT_MAX_PIXELS,
        DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PROMPT_CHARS);
  }

  public ValidationLimits withMaxImages(int v) {
    return new ValidationLimits(v, minImages, maxPixels, maxImageBytes, maxPromptChars);
  }

  public ValidationLimits withMinImages(int v) {
    return new ValidationLimits(maxImages, v, maxPixels, maxImageBytes, maxPromptChars);
  }

  public ValidationLimits withMaxPixels(long v) {
    return new ValidationLimits(maxImages, minImages, v, maxImageBytes, maxPromptChars);
  }

  public ValidationLimits withMaxImageBytes(long v) {
    return new ValidationLimits(maxImages, minImages, maxPixels, v, maxPromptChars);
  }

  public ValidationLimits withMaxPromptChars(int v) {
    return new ValidationLimits(maxImages, minImages, maxPixels, maxImageBytes, v);
  }
}
