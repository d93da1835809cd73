package io.perlspark.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.perlspark.common.config.ConfigException.Problem;
import io.perlspark.common.config.ConfigSchema.ListOf;
import io.perlspark.common.config.ConfigSchema.Node;
import io.perlspark.common.config.ConfigSchema.Scalar;
import io.perlspark.common.config.ConfigSchema.Section;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Loads a {@link PerlConfig}: built-in defaults, then a YAML file, then dotted command-line
 * overrides, then validation. Every problem found on the way is reported together in one {@link
 * ConfigException}.
 *
 * <p>Merging: sections merge key by key; lists and scalars replace. Each list item (a stage, a data
 * source) starts from its own defaults, so a stage may omit keys. A stage's {@code permutation},
 * {@code filter} or {@code rollout} section, when given, starts from the top-level section of that
 * name (after overrides), so it only needs the keys that differ.
 *
 * <p>Overrides: {@code key.path=value}, list items by index as {@code stages.0.steps=100} or {@code
 * stages[0].steps=100} (the index one past the end appends an item); the value is parsed as YAML,
 * so {@code eval.splits=[{path: a}]} and {@code filter.online.minGroupAcc=null} work, and an empty
 * value is null.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  private static final YAMLMapper MAPPER =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .disable(YAMLGenerator.Feature.SPLIT_LINES)
          .build();

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /**
   * Loads defaults, then the YAML file (none when null), then the overrides; validates.
   *
   * @throws ConfigException listing every problem (keys named), or a missing/unreadable/malformed
   *     file
   */
  public static PerlConfig load(Path yamlOrNull, List<String> overrides) {
    return bindAndValidate(resolve(readFile(yamlOrNull), overrides));
  }

  /** As {@link #load}, from YAML text (reported as {@code <string>} in syntax errors). */
  public static PerlConfig fromYamlString(String yaml, List<String> overrides) {
    return bindAndValidate(resolve(parseYaml(yaml, "<string>"), overrides));
  }

  /**
   * The merged tree (defaults + file + overrides, stage sections filled) before binding and
   * validation; for showing a user what a config resolves to.
   *
   * @throws ConfigException for unknown keys, wrong types and malformed overrides
   */
  public static ObjectNode loadResolvedTree(Path yamlOrNull, List<String> overrides) {
    Resolution r = resolve(readFile(yamlOrNull), overrides);
    if (!r.problems.isEmpty()) {
      throw new ConfigException(r.problems);
    }
    return r.tree;
  }

  /** YAML that {@link #fromYamlString} turns back into an equal config. */
  public static String toYaml(PerlConfig config) {
    try {
      return MAPPER.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write config as YAML", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  private static JsonNode readFile(Path yamlOrNull) {
    if (yamlOrNull == null) {
      return null;
    }
    String text;
    try {
      text = Files.readString(yamlOrNull);
    } catch (NoSuchFileException e) {
      throw new ConfigException("", "config file not found: " + yamlOrNull);
    } catch (IOException e) {
      throw new ConfigException("", "cannot read config file " + yamlOrNull + ": " + e);
    }
    return parseYaml(text, yamlOrNull.toString());
  }

  private static JsonNode parseYaml(String text, String source) {
    JsonNode node;
    try {
      node = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          "", source + syntaxLocation(e) + ": invalid YAML: " + yamlProblem(e));
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      return NODES.objectNode();
    }
    if (!node.isObject()) {
      throw new ConfigException(
          "",
          source
              + ": the top level must be a mapping of sections ("
              + String.join(", ", ConfigSchema.ROOT.fields().keySet())
              + "), got "
              + show(node));
    }
    return node;
  }

  /**
   * ":line:column" of a syntax error. SnakeYAML's problem mark points at the offending character;
   * Jackson's own location may point at the start of the enclosing construct instead.
   */
  private static String syntaxLocation(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null) {
      return ":" + (m.getProblemMark().getLine() + 1) + ":" + (m.getProblemMark().getColumn() + 1);
    }
    JsonLocation loc = e.getLocation();
    return loc == null || loc.getLineNr() < 1
        ? ""
        : ":" + loc.getLineNr() + ":" + loc.getColumnNr();
  }

  /** What is wrong, in the parser's words, without Jackson's location suffix. */
  private static String yamlProblem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblem() != null) {
      String context = m.getContext();
      return m.getProblem().strip()
          + (context == null || context.isBlank() ? "" : " (" + context.strip() + ")");
    }
    String msg = e.getOriginalMessage();
    if (msg == null) {
      return e.getClass().getSimpleName();
    }
    String first = msg.strip().lines().findFirst().orElse(msg).strip();
    return first.replace(
        "for `ObjectNode`: not allowed when `DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY`"
            + " enabled",
        "(duplicate key)");
  }

  // ---------------------------------------------------------------------------------------------
  // Resolution: defaults + user tree + overrides

  private record Resolution(ObjectNode tree, List<Problem> problems) {}

  private static Resolution resolve(JsonNode user, List<String> overrides) {
    List<Problem> problems = new ArrayList<>();
    ObjectNode defaults = MAPPER.valueToTree(PerlConfig.defaults());
    ObjectNode tree =
        user == null
            ? defaults
            : (ObjectNode) merge(ConfigSchema.ROOT, defaults, user, "", "", problems);
    for (String override : overrides == null ? List.<String>of() : overrides) {
      applyOverride(tree, override, problems);
    }
    fillStageSections(tree);
    return new Resolution(tree, problems);
  }

  private static PerlConfig bindAndValidate(Resolution r) {
    List<Problem> problems = new ArrayList<>(r.problems);
    PerlConfig config = null;
    try {
      config = MAPPER.treeToValue(r.tree, PerlConfig.class);
    } catch (JsonMappingException e) {
      // The schema walk catches shape and type errors first; binding can then only fail as a
      // consequence of those (already reported) or as a backstop when there were none.
      if (problems.isEmpty()) {
        problems.add(new Problem(jacksonPath(e), e.getOriginalMessage()));
      }
    } catch (JsonProcessingException e) {
      if (problems.isEmpty()) {
        problems.add(new Problem("", e.getOriginalMessage()));
      }
    }
    if (config != null) {
      problems.addAll(config.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /**
   * Merges {@code user} onto {@code base} following {@code schema}; returns the new node (base is
   * not modified). Anything wrong is recorded and the base value kept, so that one pass finds every
   * problem. A null or JSON-null base for a section means "no defaults": only the user's keys are
   * kept (a stage section, filled from the top level later).
   */
  private static JsonNode merge(
      Node schema, JsonNode base, JsonNode user, String path, String origin, List<Problem> out) {
    if (schema instanceof Section section) {
      if (user.isNull()) {
        if (section.nullable()) {
          return NullNode.getInstance();
        }
        out.add(
            problem(
                path,
                "null is not allowed; expected a section with keys " + keys(section),
                origin));
        return base;
      }
      if (!user.isObject()) {
        out.add(
            problem(
                path,
                show(user) + " is not allowed; expected a section with keys " + keys(section),
                origin));
        return base;
      }
      ObjectNode result =
          base != null && base.isObject() ? ((ObjectNode) base).deepCopy() : NODES.objectNode();
      for (Map.Entry<String, JsonNode> e : user.properties()) {
        String key = e.getKey();
        String childPath = Checks.join(path, key);
        Node child = section.fields().get(key);
        if (child == null) {
          out.add(problem(childPath, unknownKey(path, key, section), origin));
          continue;
        }
        result.set(key, merge(child, result.get(key), e.getValue(), childPath, origin, out));
      }
      return result;
    }
    if (schema instanceof ListOf list) {
      if (!user.isArray()) {
        out.add(
            problem(
                path,
                show(user)
                    + " is not allowed; expected a list of sections with keys "
                    + keys(list.item()),
                origin));
        return base;
      }
      ArrayNode result = NODES.arrayNode();
      for (int i = 0; i < user.size(); i++) {
        result.add(
            merge(list.item(), template(list), user.get(i), path + "[" + i + "]", origin, out));
      }
      return result;
    }
    Scalar scalar = (Scalar) schema;
    JsonNode converted = convert(scalar, user);
    if (converted == null) {
      String message =
          user.isValueNode() && !user.isNull()
              ? show(user) + " is not a valid " + noun(scalar.kind())
              : show(user) + " is not allowed; expected " + scalar.kind().expected;
      out.add(problem(path, message, origin));
      return base;
    }
    return converted;
  }

  private static final Pattern DECIMAL =
      Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");
  private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");

  /** The canonical node for a scalar of this kind, or null when the value does not fit it. */
  private static JsonNode convert(Scalar s, JsonNode v) {
    if (v.isNull()) {
      return s.nullable() ? NullNode.getInstance() : null;
    }
    if (!v.isValueNode()) {
      return null;
    }
    String text = v.isTextual() ? v.textValue().strip() : null;
    switch (s.kind()) {
      case INT:
        if (v.isIntegralNumber() && v.canConvertToInt()) {
          return IntNode.valueOf(v.intValue());
        }
        if (text != null && INTEGER.matcher(text).matches()) {
          try {
            return IntNode.valueOf(Integer.parseInt(text));
          } catch (NumberFormatException e) {
            return null;
          }
        }
        return null;
      case LONG:
        if (v.isIntegralNumber() && v.canConvertToLong()) {
          return LongNode.valueOf(v.longValue());
        }
        if (text != null && INTEGER.matcher(text).matches()) {
          try {
            return LongNode.valueOf(Long.parseLong(text));
          } catch (NumberFormatException e) {
            return null;
          }
        }
        return null;
      case DOUBLE:
        if (v.isNumber()) {
          return DoubleNode.valueOf(v.doubleValue());
        }
        if (text != null && DECIMAL.matcher(text).matches()) {
          return DoubleNode.valueOf(Double.parseDouble(text));
        }
        return null;
      case BOOLEAN:
        if (v.isBoolean()) {
          return v;
        }
        if (text != null && (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false"))) {
          return BooleanNode.valueOf(Boolean.parseBoolean(text));
        }
        return null;
      case STRING:
        return v.isTextual() ? v : TextNode.valueOf(v.asText());
      default:
        throw new IllegalStateException(s.kind().toString());
    }
  }

  private static String noun(ConfigSchema.Kind kind) {
    return switch (kind) {
      case INT, LONG -> "integer";
      case DOUBLE -> "number";
      case BOOLEAN -> "boolean (true or false)";
      case STRING -> "string";
    };
  }

  private static JsonNode template(ListOf list) {
    return MAPPER.valueToTree(list.template());
  }

  /** Fills each given stage section from the top-level section of the same name. */
  private static void fillStageSections(ObjectNode tree) {
    JsonNode stages = tree.get("stages");
    if (stages == null || !stages.isArray()) {
      return;
    }
    for (JsonNode stage : stages) {
      if (!stage.isObject()) {
        continue;
      }
      for (String name : StageConfig.INHERITED_SECTIONS) {
        JsonNode own = stage.get(name);
        if (own != null && own.isObject()) {
          ((ObjectNode) stage).set(name, overlay(tree.get(name).deepCopy(), own));
        }
      }
    }
  }

  /**
   * Deep-merges already checked {@code top} onto {@code base}: sections merge, the rest replaces.
   */
  private static JsonNode overlay(JsonNode base, JsonNode top) {
    if (!(base.isObject() && top.isObject())) {
      return top.deepCopy();
    }
    ObjectNode result = (ObjectNode) base;
    for (Map.Entry<String, JsonNode> e : top.properties()) {
      JsonNode b = result.get(e.getKey());
      result.set(e.getKey(), b == null ? e.getValue().deepCopy() : overlay(b, e.getValue()));
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Overrides

  private static final Pattern NAME_WITH_INDICES =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_-]*)((?:\\[\\d{1,9}])*)");
  private static final Pattern BRACKET_INDEX = Pattern.compile("\\[(\\d{1,9})]");

  private static void applyOverride(ObjectNode tree, String override, List<Problem> out) {
    String origin = " (override '" + override + "')";
    int eq = override == null ? -1 : override.indexOf('=');
    if (eq < 0) {
      out.add(
          new Problem(
              override == null ? "" : override.strip(),
              "malformed override '"
                  + override
                  + "': expected key.path=value, e.g. trainer.lr=1e-6"));
      return;
    }
    String keyText = override.substring(0, eq).strip();
    List<Object> segments = parsePath(keyText);
    if (segments == null) {
      out.add(
          new Problem(
              keyText,
              "malformed override '"
                  + override
                  + "': the key must be dotted names with list indices as .0 or [0],"
                  + " e.g. stages.0.steps=100"));
      return;
    }
    String valueText = override.substring(eq + 1);
    JsonNode value;
    try {
      value = valueText.isBlank() ? NullNode.getInstance() : MAPPER.readTree(valueText);
      if (value == null || value.isMissingNode()) {
        value = NullNode.getInstance();
      }
    } catch (JsonProcessingException e) {
      out.add(
          new Problem(
              canonical(segments, segments.size()),
              "the value is not valid YAML: " + yamlProblem(e) + origin));
      return;
    }

    JsonNode container = tree;
    Node schema = ConfigSchema.ROOT;
    for (int i = 0; i < segments.size(); i++) {
      Object seg = segments.get(i);
      boolean last = i == segments.size() - 1;
      String here = canonical(segments, i);
      String next = canonical(segments, i + 1);
      if (schema instanceof Section section) {
        if (!(seg instanceof String key)) {
          out.add(problem(next, here + " is a section, not a list; use a key", origin));
          return;
        }
        Node child = section.fields().get(key);
        if (child == null) {
          out.add(problem(next, unknownKey(here, key, section), origin));
          return;
        }
        ObjectNode obj = (ObjectNode) container;
        if (last) {
          obj.set(key, merge(child, obj.get(key), value, next, origin, out));
          return;
        }
        if (child instanceof Scalar) {
          out.add(
              problem(
                  canonical(segments, segments.size()),
                  next + " is a single value; it has no keys or items",
                  origin));
          return;
        }
        JsonNode current = obj.get(key);
        if (child instanceof Section && (current == null || !current.isObject())) {
          current = obj.putObject(key); // a stage section given key by key
        }
        container = current;
        schema = child;
      } else {
        ListOf list = (ListOf) schema;
        if (!(seg instanceof Integer index)) {
          out.add(
              problem(
                  next,
                  here
                      + " is a list; select an item by index, e.g. "
                      + here
                      + ".0 or "
                      + here
                      + "[0]",
                  origin));
          return;
        }
        ArrayNode arr = (ArrayNode) container;
        if (index > arr.size()) {
          out.add(
              problem(
                  next,
                  "index out of range: "
                      + here
                      + " has "
                      + arr.size()
                      + " item(s); index "
                      + arr.size()
                      + " appends one",
                  origin));
          return;
        }
        if (index == arr.size()) {
          arr.add(template(list));
        }
        if (last) {
          arr.set(index, merge(list.item(), arr.get(index), value, next, origin, out));
          return;
        }
        container = arr.get(index);
        schema = list.item();
      }
    }
  }

  /** Dotted key to segments (String names, Integer indices); null when malformed. */
  private static List<Object> parsePath(String key) {
    if (key.isEmpty()) {
      return null;
    }
    List<Object> segments = new ArrayList<>();
    for (String part : key.split("\\.", -1)) {
      if (part.matches("\\d{1,9}")) {
        segments.add(Integer.parseInt(part));
        continue;
      }
      Matcher m = NAME_WITH_INDICES.matcher(part);
      if (!m.matches()) {
        return null;
      }
      segments.add(m.group(1));
      Matcher idx = BRACKET_INDEX.matcher(m.group(2));
      while (idx.find()) {
        segments.add(Integer.parseInt(idx.group(1)));
      }
    }
    return segments;
  }

  /** The first {@code n} segments as a key: {@code stages[0].steps}. */
  private static String canonical(List<Object> segments, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      Object s = segments.get(i);
      if (s instanceof Integer idx) {
        sb.append('[').append(idx).append(']');
      } else {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(s);
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private static Problem problem(String key, String message, String origin) {
    return new Problem(key, message + origin);
  }

  private static String keys(Section section) {
    return String.join(", ", section.fields().keySet());
  }

  /**
   * Keys that existed once, with what replaced them: an old config gets the way forward instead of
   * a bare "unknown key".
   */
  private static final Map<String, String> RETIRED_KEYS =
      Map.of(
          "model.type",
          "model.type was replaced by model.family (" + String.join(" | ", ModelConfig.FAMILIES)
              + "); 'type: tiny-vlm' is now 'family: " + ModelConfig.BUILTIN + "'");

  private static String unknownKey(String parentPath, String key, Section section) {
    String retired = RETIRED_KEYS.get(Checks.join(parentPath, key));
    if (retired != null) {
      return "unknown key: " + retired;
    }
    String best = closest(key, section.fields().keySet());
    if (best != null) {
      return "unknown key (did you mean " + Checks.join(parentPath, best) + "?)";
    }
    return "unknown key; the keys "
        + (parentPath.isEmpty() ? "at the top level" : "of " + parentPath)
        + " are "
        + keys(section);
  }

  /** The sibling key nearest by edit distance, when near enough to be a likely typo. */
  static String closest(String key, Iterable<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String k = key.toLowerCase(Locale.ROOT);
    for (String c : candidates) {
      int d = editDistance(k, c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    // Short keys tolerate one edit, longer ones about a third of their length.
    int allowed = key.length() <= 3 ? 1 : Math.max(2, key.length() / 3);
    return best != null && bestDistance <= allowed ? best : null;
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static String show(JsonNode n) {
    if (n == null || n.isNull()) {
      return "null";
    }
    if (n.isTextual()) {
      return "'" + n.textValue() + "'";
    }
    if (n.isObject()) {
      return "a mapping";
    }
    if (n.isArray()) {
      return "a list";
    }
    return n.toString();
  }

  private static String jacksonPath(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }
}
