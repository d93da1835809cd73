package io.perlspark.common.config;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Collects validation problems; every check names the dotted key and what is allowed. */
final class Checks {
  private final List<ConfigException.Problem> problems = new ArrayList<>();

  List<ConfigException.Problem> problems() {
    return problems;
  }

  void add(String key, String message) {
    problems.add(new ConfigException.Problem(key, message));
  }

  void notAllowed(String key, Object value, String rule) {
    add(key, show(value) + " is not allowed; " + rule);
  }

  static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  static String show(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return "'" + s + "'";
    }
    if (value instanceof Double d) {
      return showDouble(d);
    }
    return String.valueOf(value);
  }

  /** Plain decimal for everyday magnitudes (0.001 rather than 1.0E-3), scientific otherwise. */
  static String showDouble(double d) {
    if (!Double.isFinite(d)) {
      return Double.toString(d);
    }
    double a = Math.abs(d);
    if (a == 0 || (a >= 1e-4 && a < 1e9)) {
      return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    return Double.toString(d);
  }

  void atLeast(String key, long value, long min) {
    if (value < min) {
      notAllowed(key, value, "must be >= " + min);
    }
  }

  void positive(String key, double value) {
    if (!(Double.isFinite(value) && value > 0)) {
      notAllowed(key, value, "must be > 0");
    }
  }

  void nonNegative(String key, double value) {
    if (!(Double.isFinite(value) && value >= 0)) {
      notAllowed(key, value, "must be >= 0");
    }
  }

  /** value in [0, 1). */
  void unitHalfOpen(String key, double value) {
    if (!(value >= 0 && value < 1)) {
      notAllowed(key, value, "must be in [0, 1)");
    }
  }

  /** value in [0, 1]. */
  void unitClosed(String key, double value) {
    if (!(value >= 0 && value <= 1)) {
      notAllowed(key, value, "must be in [0, 1]");
    }
  }

  void oneOf(String key, String value, List<String> allowed) {
    if (value == null || !allowed.contains(value)) {
      notAllowed(key, value, "must be one of " + String.join(" | ", allowed));
    }
  }

  void notBlank(String key, String value) {
    if (value == null) {
      add(key, "missing; a non-blank string is required");
    } else if (value.isBlank()) {
      notAllowed(key, value, "must be non-blank");
    }
  }

  void divides(String key, long divisor, String dividendKey, long dividend) {
    if (divisor >= 1 && dividend % divisor != 0) {
      notAllowed(key, divisor, "must divide " + dividendKey + " (" + dividend + ")");
    }
  }

  static List<String> list(String... values) {
    return List.copyOf(Arrays.asList(values));
  }
}
