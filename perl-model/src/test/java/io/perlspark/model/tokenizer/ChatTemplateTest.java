package io.perlspark.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Jinja2's whitespace rules as Hugging Face sets them (trim_blocks, lstrip_blocks). */
class ChatTemplateTest {
  private static String render(String template) {
    return ChatTemplate.of(template, "test").render(List.of(), false);
  }

  @Test
  void trimBlocksDropsOnlyTheNewlineRightAfterATag() {
    assertEquals("x|", render("{% if true %}\nx{% endif %}\n|"));
    assertEquals("  \nx|", render("{% if true %}  \nx{% endif %}|"));
    assertEquals("z|", render("{# note #}\nz|"));
  }

  @Test
  void lstripBlocksStripsOnlyFromTheStartOfALine() {
    assertEquals("a\n  x\n|", render("a\n  {% if true %}\n  x\n  {% endif %}\n|"));
    assertEquals("  1\n  2\n|", render("{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n|"));
    // Mid-line whitespace before a tag is text (Jinjava's own lstripBlocks would drop it).
    assertEquals("P: x |", render("P: {% if true %}x {% endif %}|"));
  }

  @Test
  void messageTextIsNeitherEscapedNorEvaluated() {
    ChatTemplate t = ChatTemplate.of(
        "{% for m in messages %}[{{ m['content'] }}]{% endfor %}"
            + "{% if add_generation_prompt %}>{% endif %}", "test");
    List<Map<String, Object>> messages =
        List.of(Map.of("role", "user", "content", "a < b & {{ 1 + 1 }} {% if %}"));
    assertEquals("[a < b & {{ 1 + 1 }} {% if %}]>", t.render(messages, true));
    assertEquals("[a < b & {{ 1 + 1 }} {% if %}]", t.render(messages, false));
  }

  @Test
  void aBrokenTemplateFailsLoudly() {
    assertThrows(IllegalStateException.class, () -> render("{% for %}"));
  }
}
