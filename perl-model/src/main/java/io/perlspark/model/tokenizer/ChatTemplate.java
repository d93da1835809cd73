package io.perlspark.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A Hugging Face chat template (Jinja), rendered with Jinjava the way {@code
 * apply_chat_template(tokenize=False)} renders it: {@code trim_blocks} and {@code lstrip_blocks}
 * on, no autoescaping, variables {@code messages} and {@code add_generation_prompt} plus any
 * extras. The template is the checkpoint's own, so a model whose template changes needs no code
 * change here.
 *
 * <p>Two Jinjava defaults differ from Jinja2 and are replaced: its {@code lstripBlocks} strips
 * whitespace before every block tag, even mid-line ({@code "Picture 1: {% endif %}"} would lose
 * its space), so Jinja2's rule (spaces and tabs from a line's start up to a block or comment tag)
 * is applied to the source instead; and nested interpretation, which would evaluate a {@code {{
 * }}} that appears inside a message's text, is turned off.
 *
 * <p>Messages are maps as in Python: {@code {"role": "user", "content": "text"}} or {@code
 * {"role": "user", "content": [{"type": "text", "text": "..."}, {"type": "image"}]}}.
 */
public final class ChatTemplate {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Jinja2's lstrip_blocks: leading spaces/tabs of a line that starts with a tag (not {%+). */
  private static final Pattern LSTRIP = Pattern.compile("(?m)^[ \\t]+(?=\\{[%#](?!\\+))");

  private final String template;
  private final String prepared;
  private final String origin;
  private final Jinjava jinjava;

  private ChatTemplate(String template, String origin) {
    this.template = Objects.requireNonNull(template, "template");
    this.prepared = LSTRIP.matcher(template).replaceAll("");
    this.origin = origin;
    this.jinjava =
        new Jinjava(
            JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false)
                .withNestedInterpretationEnabled(false)
                .build());
  }

  /** A template given as Jinja source. */
  public static ChatTemplate of(String template, String origin) {
    return new ChatTemplate(template, origin == null ? "" : origin);
  }

  /**
   * The template of a checkpoint folder, from the first that exists of {@code chat_template.jinja},
   * {@code chat_template.json} (the processor's, as Hugging Face's processors prefer) and the
   * {@code chat_template} field of {@code tokenizer_config.json} (a string, or a list of named
   * templates of which {@code default} is taken).
   */
  public static ChatTemplate load(Path folder) {
    try {
      Path jinja = folder.resolve("chat_template.jinja");
      if (Files.isRegularFile(jinja)) {
        return of(Files.readString(jinja), jinja.toString());
      }
      Path json = folder.resolve("chat_template.json");
      if (Files.isRegularFile(json)) {
        JsonNode t = JSON.readTree(json.toFile()).get("chat_template");
        if (t != null && t.isTextual()) {
          return of(t.asText(), json.toString());
        }
      }
      Path tokConfig = folder.resolve("tokenizer_config.json");
      if (Files.isRegularFile(tokConfig)) {
        JsonNode t = JSON.readTree(tokConfig.toFile()).get("chat_template");
        if (t != null && t.isTextual()) {
          return of(t.asText(), tokConfig.toString());
        }
        if (t != null && t.isArray()) {
          for (JsonNode named : t) {
            if ("default".equals(named.path("name").asText())) {
              return of(named.path("template").asText(), tokConfig + " (default)");
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the chat template in " + folder, e);
    }
    throw new IllegalArgumentException(
        folder + " has no chat template (looked for chat_template.jinja, chat_template.json and"
            + " the chat_template field of tokenizer_config.json)");
  }

  /** Renders {@code messages}; {@code add_generation_prompt} opens the assistant's turn. */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, Map.of());
  }

  /** As {@link #render(List, boolean)} with extra template variables (e.g. add_vision_id). */
  public String render(
      List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
    Map<String, Object> context = new HashMap<>(extra);
    context.put("messages", messages);
    context.put("add_generation_prompt", addGenerationPrompt);
    RenderResult result = jinjava.renderForResult(prepared, context);
    List<TemplateError> fatal =
        result.getErrors().stream()
            .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
            .collect(Collectors.toList());
    if (!fatal.isEmpty()) {
      throw new IllegalStateException(
          "chat template " + origin + " failed to render: "
              + fatal.stream().map(TemplateError::getMessage).collect(Collectors.joining("; ")));
    }
    return result.getOutput();
  }

  /** The Jinja source. */
  public String source() {
    return template;
  }

  @Override
  public String toString() {
    return "ChatTemplate(" + origin + ")";
  }
}
