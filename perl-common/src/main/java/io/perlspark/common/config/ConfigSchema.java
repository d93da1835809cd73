package io.perlspark.common.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of the config, derived from the record classes so that it cannot drift from them: which
 * keys exist where, which are sections, lists or scalars, their scalar types and whether null is
 * allowed.
 *
 * <p>Nullability: a boxed scalar or a String may be null (strings are then checked by validation,
 * which gives a clearer message); a section may be null only where its default is null (the
 * per-stage overrides).
 */
final class ConfigSchema {
  private ConfigSchema() {}

  enum Kind {
    INT("an integer"),
    LONG("an integer"),
    DOUBLE("a number"),
    BOOLEAN("a boolean (true or false)"),
    STRING("a string");

    final String expected;

    Kind(String expected) {
      this.expected = expected;
    }
  }

  sealed interface Node permits Section, ListOf, Scalar {}

  /** A record: its keys in declaration order. */
  record Section(Class<?> type, boolean nullable, Map<String, Node> fields) implements Node {}

  /** A list of records; each item starts from {@code template} before the user's keys. */
  record ListOf(Section item, Object template) implements Node {}

  record Scalar(Kind kind, boolean nullable) implements Node {}

  /** Values list items start from, per item record type. */
  private static final Map<Class<?>, Object> TEMPLATES =
      Map.of(StageConfig.class, StageConfig.template(), DataSource.class, DataSource.template());

  static final Section ROOT = section(PerlConfig.class, PerlConfig.defaults(), false);

  private static Section section(Class<?> type, Object defaults, boolean nullable) {
    Map<String, Node> fields = new LinkedHashMap<>();
    for (RecordComponent rc : type.getRecordComponents()) {
      Class<?> t = rc.getType();
      Object value = defaults == null ? null : read(rc, defaults);
      Node node;
      if (t == int.class || t == Integer.class) {
        node = new Scalar(Kind.INT, !t.isPrimitive());
      } else if (t == long.class || t == Long.class) {
        node = new Scalar(Kind.LONG, !t.isPrimitive());
      } else if (t == double.class || t == Double.class) {
        node = new Scalar(Kind.DOUBLE, !t.isPrimitive());
      } else if (t == boolean.class || t == Boolean.class) {
        node = new Scalar(Kind.BOOLEAN, !t.isPrimitive());
      } else if (t == String.class) {
        node = new Scalar(Kind.STRING, true);
      } else if (t.isRecord()) {
        node = section(t, value, defaults != null && value == null);
      } else if (t == List.class) {
        Class<?> item =
            (Class<?>) ((ParameterizedType) rc.getGenericType()).getActualTypeArguments()[0];
        Object template = TEMPLATES.get(item);
        if (template == null) {
          throw new IllegalStateException("no list item template for " + item.getName());
        }
        node = new ListOf(section(item, template, false), template);
      } else {
        throw new IllegalStateException(
            "unsupported config field type " + t.getName() + " of " + type.getName());
      }
      fields.put(rc.getName(), node);
    }
    return new Section(type, nullable, Collections.unmodifiableMap(fields));
  }

  private static Object read(RecordComponent rc, Object instance) {
    try {
      return rc.getAccessor().invoke(instance);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + rc.getName(), e);
    }
  }
}
