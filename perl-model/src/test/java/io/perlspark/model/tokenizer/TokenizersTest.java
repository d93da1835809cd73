package io.perlspark.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizersTest {
  @Test
  void builtinAndFileSpecs() throws Exception {
    try (TextTokenizer t = Tokenizers.load("builtin", List.of("red", "blue"))) {
      assertInstanceOf(WordTokenizer.class, t);
      assertEquals(7, t.vocabSize());
    }
    try (TextTokenizer t = Tokenizers.load(HfTokenizerTest.fixture().toString(), List.of())) {
      assertInstanceOf(HfTokenizer.class, t);
    }
  }

  @Test
  void badSpecsAreReported() {
    assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(" ", List.of("a")));
    IllegalArgumentException noWords =
        assertThrows(IllegalArgumentException.class, () -> Tokenizers.load("builtin", List.of()));
    assertTrue(noWords.getMessage().contains("needs a word list"));
    assertThrows(
        IllegalArgumentException.class, () -> Tokenizers.load("/no/such/tokenizer.json", null));
  }
}
