package io.perlspark.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from configuration text before it is stored (checkpoint provenance, logs).
 *
 * <p>YAML and JSON are parsed; the value (the whole sub-tree) of every key matching {@link
 * #SENSITIVE_KEY} is replaced by {@link #MASK}, and the text is written back in the same format
 * (comments are dropped, which also drops any secret in them). Two word forms that are not secrets
 * are exempt, so that run settings stay readable: "tokenizer" (a path or name) and "tokens" when
 * the value is a number ({@code maxResponseTokens: 512}). String values elsewhere are also cleaned
 * of credentials in URLs ({@code https://user:pw@host}) and of inline {@code key=value} pairs whose
 * key is sensitive ({@code --conf fs.s3a.secret.key=…}). Text that is neither YAML nor JSON is
 * cleaned line by line with the inline rules. Redaction is idempotent.
 */
public final class ConfigRedactor {
  /** Keys whose values are secrets. */
  public static final Pattern SENSITIVE_KEY = Pattern.compile("(?i)(secret|password|token|key|credential)");

  public static final String MASK = "***REDACTED***";

  private static final Pattern TOKENIZER = Pattern.compile("(?i)tokenizer");
  private static final Pattern TOKENS = Pattern.compile("(?i)tokens");
  private static final Pattern URL_USERINFO =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)([^/\\s:@]+):([^/\\s@]+)@");
  private static final Pattern INLINE_PAIR =
      Pattern.compile(
          "(?i)([\\w.-]*(?:secret|password|token|key|credential)[\\w.-]*)(\\s*[=:]\\s*)([^\\s,;&\"']+)");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .build());

  private ConfigRedactor() {}

  /** Whether a key's value must be hidden, given the value (numbers under "…tokens" are kept). */
  public static boolean isSensitiveKey(String key, JsonNode value) {
    String k = TOKENIZER.matcher(key).replaceAll("");
    if (value != null && value.isNumber()) {
      k = TOKENS.matcher(k).replaceAll("");
    }
    return SENSITIVE_KEY.matcher(k).find();
  }

  /** Redacts YAML or JSON configuration text (other text line by line); null stays null. */
  public static String redact(String configText) {
    if (configText == null || configText.isBlank()) {
      return configText;
    }
    boolean json = configText.stripLeading().startsWith("{") || configText.stripLeading().startsWith("[");
    try {
      ObjectMapper mapper = json ? JSON : YAML;
      List<JsonNode> docs = new ArrayList<>();
      try (MappingIterator<JsonNode> it = mapper.readerFor(JsonNode.class).readValues(configText)) {
        while (it.hasNext()) {
          docs.add(it.next());
        }
      }
      if (docs.isEmpty() || docs.stream().noneMatch(JsonNode::isContainerNode)) {
        return redactLines(configText);
      }
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < docs.size(); i++) {
        if (i > 0) {
          out.append(json ? "\n" : "---\n");
        }
        String doc = mapper.writeValueAsString(redactTree(docs.get(i)));
        out.append(doc);
        if (!doc.endsWith("\n")) {
          out.append('\n');
        }
      }
      return out.toString();
    } catch (IOException | RuntimeException e) {
      // Not parseable as YAML/JSON: fall back to the inline rules, line by line.
      return redactLines(configText);
    }
  }

  /** Cleans one free-text string: URL credentials and sensitive {@code key=value} pairs. */
  public static String redactInline(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String s = URL_USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + ":" + MASK + "@"));
    return INLINE_PAIR.matcher(s).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
  }

  private static String redactLines(String text) {
    StringBuilder out = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (out.length() > 0) {
        out.append('\n');
      }
      out.append(redactInline(line));
    }
    return out.toString();
  }

  private static JsonNode redactTree(JsonNode node) {
    if (node instanceof ObjectNode obj) {
      List<String> names = new ArrayList<>();
      for (Map.Entry<String, JsonNode> field : obj.properties()) {
        names.add(field.getKey());
      }
      for (String name : names) {
        JsonNode value = obj.get(name);
        if (isSensitiveKey(name, value)) {
          obj.set(name, TextNode.valueOf(MASK));
        } else {
          obj.set(name, redactTree(value));
        }
      }
      return obj;
    }
    if (node instanceof ArrayNode arr) {
      for (int i = 0; i < arr.size(); i++) {
        arr.set(i, redactTree(arr.get(i)));
      }
      return arr;
    }
    if (node != null && node.isTextual()) {
      String cleaned = redactInline(node.textValue());
      return cleaned.equals(node.textValue()) ? node : TextNode.valueOf(cleaned);
    }
    return node;
  }
}
