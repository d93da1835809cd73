package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

class ConfigRedactorTest {
  static final String YAML =
      String.join(
          "\n",
          "# a comment with a secret: COMMENT_SECRET",
          "run:",
          "  seed: 7",
          "  hfToken: TOKEN_VALUE_1",
          "  password: 314159",
          "storage:",
          "  credentials:",
          "    user: alice",
          "    pass: NESTED_SECRET",
          "  fs.s3a.access.key: ACCESS_KEY_VALUE",
          "  endpoint: https://bob:URL_PASSWORD@minio.local:9000/bucket",
          "  jdbc: jdbc:postgresql://db/x?user=u&password=JDBC_PASSWORD",
          "rollout:",
          "  maxResponseTokens: 512",
          "  tokenizer: /models/tiny/tokenizer.json",
          "spark:",
          "  extraArgs: ['--conf', 'spark.hadoop.fs.s3a.secret.key=INLINE_SECRET']",
          "trainer:",
          "  lr: 1.0e-6",
          "");

  static final String[] SECRETS = {
    "COMMENT_SECRET", "TOKEN_VALUE_1", "314159", "NESTED_SECRET", "alice", "ACCESS_KEY_VALUE", "URL_PASSWORD",
    "JDBC_PASSWORD", "INLINE_SECRET"
  };

  @Test
  void yamlSecretsAreRedactedAndSettingsKept() throws Exception {
    String out = ConfigRedactor.redact(YAML);
    for (String secret : SECRETS) {
      assertFalse(out.contains(secret), secret + " leaked:\n" + out);
    }
    JsonNode tree = new YAMLMapper().readTree(out);
    assertEquals(ConfigRedactor.MASK, tree.at("/run/hfToken").asText());
    assertEquals(ConfigRedactor.MASK, tree.at("/storage/credentials").asText(), "a whole sensitive sub-tree goes");
    assertEquals(7, tree.at("/run/seed").asInt());
    assertEquals(512, tree.at("/rollout/maxResponseTokens").asInt(), "token counts are not secrets");
    assertEquals("/models/tiny/tokenizer.json", tree.at("/rollout/tokenizer").asText());
    assertEquals("https://bob:" + ConfigRedactor.MASK + "@minio.local:9000/bucket", tree.at("/storage/endpoint").asText());
    assertEquals(1e-6, tree.at("/trainer/lr").asDouble());
    assertEquals(out, ConfigRedactor.redact(out), "idempotent");
  }

  @Test
  void jsonStaysJson() throws Exception {
    String json = "{\"model\": {\"apiKey\": \"KEY_123\", \"layers\": 2}, \"items\": [{\"secret\": {\"a\": 1}}]}";
    String out = ConfigRedactor.redact(json);
    assertFalse(out.contains("KEY_123"));
    JsonNode tree = new ObjectMapper().readTree(out);
    assertEquals(2, tree.at("/model/layers").asInt());
    assertEquals(ConfigRedactor.MASK, tree.at("/items/0/secret").asText());
  }

  @Test
  void unparseableTextIsCleanedLineByLine() {
    String text = "password = LINE_SECRET\nplain: [unbalanced\ntoken: TOK_2";
    String out = ConfigRedactor.redact(text);
    assertFalse(out.contains("LINE_SECRET"), out);
    assertFalse(out.contains("TOK_2"), out);
    assertTrue(out.contains("plain: [unbalanced"), out);
  }

  @Test
  void sensitiveKeyRule() {
    ObjectMapper m = new ObjectMapper();
    assertTrue(ConfigRedactor.isSensitiveKey("AWS_SECRET_ACCESS_KEY", m.getNodeFactory().textNode("x")));
    assertTrue(ConfigRedactor.isSensitiveKey("tokens", m.getNodeFactory().textNode("abc")), "non-numeric tokens stay hidden");
    assertFalse(ConfigRedactor.isSensitiveKey("max_new_tokens", m.getNodeFactory().numberNode(64)));
    assertTrue(ConfigRedactor.isSensitiveKey("tokenizerSecret", m.getNodeFactory().textNode("x")));
    assertFalse(ConfigRedactor.isSensitiveKey("learningRate", m.getNodeFactory().numberNode(1)));
  }
}
