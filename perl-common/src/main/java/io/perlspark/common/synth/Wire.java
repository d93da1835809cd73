package io.perlspark.common.synth;

import java.util.Locale;
import java.util.StringJoiner;

/** Parsing of the lower-snake-case names the synth enums use in prompts and config files. */
final class Wire {
  private Wire() {}

  static <E extends Enum<E>> E parse(Class<E> type, E[] values, String s, String what) {
    StringJoiner allowed = new StringJoiner(", ");
    for (E e : values) {
      allowed.add(e.name().toLowerCase(Locale.ROOT));
    }
    if (s == null) {
      throw new IllegalArgumentException(what + " is missing; allowed: " + allowed);
    }
    String norm = s.trim().replace('-', '_').toUpperCase(Locale.ROOT);
    for (E e : values) {
      if (e.name().equals(norm)) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown " + what + " '" + s + "'; allowed: " + allowed);
  }
}
