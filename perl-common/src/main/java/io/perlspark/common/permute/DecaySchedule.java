package io.perlspark.common.permute;

import java.io.Serializable;
import java.util.Locale;

/**
 * The probability {@code p(step)} that a prompt gets its permuted copies at a training step.
 * Permutation is exploration, most useful early, so it decays towards {@code pMin}.
 *
 * <p>Every schedule returns a value in [0, 1], and {@code pMin} for a step beyond
 * {@code totalSteps}.
 */
public interface DecaySchedule extends Serializable {

  String ALLOWED_NAMES = "linear, exp, pow, constant";

  double probability(long step, long totalSteps);

  /** {@code max(pMin, p0·(1 − step/total))}; {@code linear(1, 0)} is the paper's default. */
  static DecaySchedule linear(double p0, double pMin) {
    return new Linear(p0, pMin);
  }

  /** {@code max(pMin, p0·exp(−rate·step/total))}. */
  static DecaySchedule exp(double p0, double pMin, double rate) {
    return new Exp(p0, pMin, rate);
  }

  /** {@code max(pMin, p0·(1 − step/total)^power)}. */
  static DecaySchedule pow(double p0, double pMin, double power) {
    return new Pow(p0, pMin, power);
  }

  /** {@code p0} at every step. */
  static DecaySchedule constant(double p0) {
    return new Constant(p0);
  }

  /** Builds a schedule by name ({@value #ALLOWED_NAMES}); parameters a schedule does not use are ignored. */
  static DecaySchedule parse(String name, double p0, double pMin, double rate, double power) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    return switch (n) {
      case "linear" -> linear(p0, pMin);
      case "exp" -> exp(p0, pMin, rate);
      case "pow" -> pow(p0, pMin, power);
      case "constant" -> constant(p0);
      default -> throw new IllegalArgumentException(
          "unknown decay schedule '" + name + "'; allowed: " + ALLOWED_NAMES);
    };
  }

  record Linear(double p0, double pMin) implements DecaySchedule {
    public Linear {
      Schedules.requireFinite("p0", p0);
      Schedules.requireFinite("pMin", pMin);
    }

    @Override
    public double probability(long step, long totalSteps) {
      double f = Schedules.fraction(step, totalSteps);
      return f > 1 ? Schedules.clamp(pMin) : Schedules.clamp(Math.max(pMin, p0 * (1 - f)));
    }
  }

  record Exp(double p0, double pMin, double rate) implements DecaySchedule {
    public Exp {
      Schedules.requireFinite("p0", p0);
      Schedules.requireFinite("pMin", pMin);
      Schedules.requireFinite("rate", rate);
      if (rate < 0) {
        throw new IllegalArgumentException("exp decay rate must be >= 0, got " + rate);
      }
    }

    @Override
    public double probability(long step, long totalSteps) {
      double f = Schedules.fraction(step, totalSteps);
      return f > 1 ? Schedules.clamp(pMin) : Schedules.clamp(Math.max(pMin, p0 * Math.exp(-rate * f)));
    }
  }

  record Pow(double p0, double pMin, double power) implements DecaySchedule {
    public Pow {
      Schedules.requireFinite("p0", p0);
      Schedules.requireFinite("pMin", pMin);
      Schedules.requireFinite("power", power);
      if (power <= 0) {
        throw new IllegalArgumentException("pow decay power must be > 0, got " + power);
      }
    }

    @Override
    public double probability(long step, long totalSteps) {
      double f = Schedules.fraction(step, totalSteps);
      return f > 1 ? Schedules.clamp(pMin) : Schedules.clamp(Math.max(pMin, p0 * Math.pow(1 - f, power)));
    }
  }

  /** No decay; {@code pMin} is {@code p0}, so a step beyond the end still gives {@code p0}. */
  record Constant(double p0) implements DecaySchedule {
    public Constant {
      Schedules.requireFinite("p0", p0);
    }

    @Override
    public double probability(long step, long totalSteps) {
      Schedules.fraction(step, totalSteps);
      return Schedules.clamp(p0);
    }
  }
}
