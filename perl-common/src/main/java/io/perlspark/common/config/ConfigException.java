package io.perlspark.common.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration that cannot be used. Carries every problem found, not only the first, so that a
 * user fixes a config in one round.
 *
 * <p>Each problem names a dotted key ({@code trainer.lr}, {@code stages[1].data[0].weight}); a
 * problem that is not about one key (a YAML syntax error, a missing file) has the empty key.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * One problem: the key it concerns and what is wrong, e.g. "-0.001 is not allowed; must be > 0".
   */
  public record Problem(String key, String message) implements java.io.Serializable {
    public Problem {
      key = key == null ? "" : key;
    }

    @Override
    public String toString() {
      return key.isEmpty() ? message : key + ": " + message;
    }
  }

  private final List<Problem> problems;

  public ConfigException(String key, String message) {
    this(List.of(new Problem(key, message)));
  }

  public ConfigException(List<Problem> problems) {
    super(render(problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  /** The key of the first problem ("" when it is not about one key). */
  public String key() {
    return problems.get(0).key();
  }

  /** Every problem found, in the order found. */
  public List<Problem> problems() {
    return problems;
  }

  /** The keys of all problems, in order. */
  public List<String> keys() {
    return problems.stream().map(Problem::key).collect(Collectors.toList());
  }

  private static String render(List<Problem> problems) {
    if (problems.size() == 1) {
      return problems.get(0).toString();
    }
    return problems.size()
        + " configuration problems:\n"
        + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n"));
  }
}
