package io.perlspark.model.learn;

import java.io.Serializable;
import java.util.Locale;

/**
 * Learning rate as a function of the optimizer step. {@code step} is the 0-based index of the
 * update about to be applied (the number of updates done before it).
 *
 * <ul>
 *   <li>{@code constant}: linear warmup {@code lr·(step+1)/warmup} for the first {@code warmup}
 *       steps, then {@code lr}.
 *   <li>{@code cosine}: the same warmup, then cosine decay from {@code lr} at step {@code warmup} to
 *       {@code minLrRatio·lr} at step {@code totalSteps} (and after it): {@code lr·(min + (1 − min)·½·(1
 *       + cos(π·progress)))}, {@code progress = (step − warmup)/(totalSteps − warmup)}.
 * </ul>
 *
 * The warmup starts at {@code lr/warmup}, not 0, so that the first update is not wasted.
 */
public final class LrSchedule implements Serializable {
  /** The schedule kinds {@link #parse} accepts. */
  public enum Kind {
    CONSTANT,
    COSINE
  }

  private final Kind kind;
  private final double baseLr;
  private final long warmupSteps;
  private final long totalSteps;
  private final double minLrRatio;

  private LrSchedule(Kind kind, double baseLr, long warmupSteps, long totalSteps, double minLrRatio) {
    if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
      throw new IllegalArgumentException("lr must be a finite value >= 0, got " + baseLr);
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
    }
    if (kind == Kind.COSINE) {
      if (totalSteps <= warmupSteps) {
        throw new IllegalArgumentException(
            "cosine schedule needs totalSteps > warmupSteps, got totalSteps="
                + totalSteps
                + ", warmupSteps="
                + warmupSteps);
      }
      if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
        throw new IllegalArgumentException("minLrRatio must be in [0, 1], got " + minLrRatio);
      }
    }
    this.kind = kind;
    this.baseLr = baseLr;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.minLrRatio = minLrRatio;
  }

  public static LrSchedule constant(double lr) {
    return new LrSchedule(Kind.CONSTANT, lr, 0, 0, 1);
  }

  public static LrSchedule constant(double lr, long warmupSteps) {
    return new LrSchedule(Kind.CONSTANT, lr, warmupSteps, 0, 1);
  }

  public static LrSchedule warmupCosine(double lr, long warmupSteps, long totalSteps, double minLrRatio) {
    return new LrSchedule(Kind.COSINE, lr, warmupSteps, totalSteps, minLrRatio);
  }

  /**
   * By name: {@code constant} or {@code cosine} (also {@code warmup_cosine}, {@code
   * cosine_with_warmup}); case and '-'/'_' do not matter. {@code totalSteps} and {@code minLrRatio}
   * are used by cosine only.
   */
  public static LrSchedule parse(
      String name, double lr, long warmupSteps, long totalSteps, double minLrRatio) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    switch (n) {
      case "constant":
        return constant(lr, warmupSteps);
      case "cosine":
      case "warmup_cosine":
      case "cosine_with_warmup":
        return warmupCosine(lr, warmupSteps, totalSteps, minLrRatio);
      default:
        throw new IllegalArgumentException(
            "unknown lr schedule '" + name + "'; allowed: constant, cosine");
    }
  }

  /** The learning rate for the update with 0-based index {@code step}. */
  public double lr(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    if (step < warmupSteps) {
      return baseLr * (step + 1) / warmupSteps;
    }
    if (kind == Kind.CONSTANT) {
      return baseLr;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
    return baseLr * (minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  public Kind kind() {
    return kind;
  }

  public double baseLr() {
    return baseLr;
  }

  public long warmupSteps() {
    return warmupSteps;
  }

  public long totalSteps() {
    return totalSteps;
  }

  public double minLrRatio() {
    return minLrRatio;
  }

  @Override
  public String toString() {
    return kind == Kind.CONSTANT
        ? "constant(lr=" + baseLr + ", warmup=" + warmupSteps + ")"
        : "cosine(lr=" + baseLr + ", warmup=" + warmupSteps + ", total=" + totalSteps + ", minLrRatio=" + minLrRatio + ")";
  }
}
