package io.perlspark.common.synth;

import java.io.Serializable;
import java.util.Objects;

/**
 * What one synthetic image shows.
 *
 * @param colour the shape's colour
 * @param shape the shape
 * @param radius half the width of the shape's bounding box in pixels (see {@link ShapeRenderer})
 * @param intensity the factor the colour's lit channels are scaled by, in (0, 1]
 */
public record ShapeSpec(Colour colour, Shape shape, int radius, double intensity) implements Serializable {

  public ShapeSpec {
    Objects.requireNonNull(colour, "colour");
    Objects.requireNonNull(shape, "shape");
    if (radius < 1) {
      throw new IllegalArgumentException("radius must be >= 1 pixel, got " + radius);
    }
    if (!(intensity > 0.0 && intensity <= 1.0)) {
      throw new IllegalArgumentException("intensity must be in (0, 1], got " + intensity);
    }
  }

  /** The words the reference trace uses for this image, e.g. {@code red circle}. */
  public String describe() {
    return colour.wireName() + " " + shape.wireName();
  }
}
