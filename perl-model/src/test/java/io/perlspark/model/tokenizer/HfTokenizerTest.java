package io.perlspark.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hand-written WordLevel tokenizer.json in test resources, loaded offline. */
class HfTokenizerTest {
  static Path fixture() throws URISyntaxException {
    return Path.of(HfTokenizerTest.class.getResource("/tokenizer/word-level.json").toURI());
  }

  @Test
  void loadsVocabularyAndSpecialTokens() throws Exception {
    try (HfTokenizer t = HfTokenizer.load(fixture())) {
      assertEquals(18, t.vocabSize());
      assertEquals(0, t.padId());
      assertEquals(1, t.bosId());
      assertEquals(2, t.eosId());
      assertEquals(4, t.imageId());
      assertEquals(5, t.id("which").getAsInt());
      assertFalse(t.id("blue").isPresent());
    }
  }

  @Test
  void encodesWithoutSpecialTokensAndDecodesSkippingPad() throws Exception {
    try (HfTokenizer t = HfTokenizer.load(fixture())) {
      int[] ids = t.encode("<image> <image> Which image shows a red circle?");
      assertArrayEquals(new int[] {4, 4, 5, 6, 7, 8, 9, 10, 11}, ids);
      assertEquals(3, t.encode("blue")[0]); // unknown word
      int[] padded = {4, 5, 0, 0};
      assertEquals("<image> which", t.decode(padded));
      int[] answer = t.encode("<think> red </think> \\boxed{ 1 }");
      assertArrayEquals(new int[] {14, 9, 15, 16, 12, 17}, answer);
      assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {18}));
    }
  }

  @Test
  void sourceCarriesTheJsonNotThePath(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("tokenizer.json");
    Files.copy(fixture(), copy);
    TokenizerSource source;
    try (TextTokenizer t = Tokenizers.load(copy.toString(), List.of())) {
      source = t.source();
    }
    Files.delete(copy);
    try (TextTokenizer reopened = source.open()) {
      assertEquals(18, reopened.vocabSize());
      assertArrayEquals(new int[] {9, 10}, reopened.encode("red circle"));
    }
  }

  @Test
  void missingFilesAndTokensAreReported(@TempDir Path dir) throws Exception {
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> HfTokenizer.load(dir.resolve("nope.json")));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    String noImage = Files.readString(fixture()).replace("<image>", "<picture>");
    IllegalArgumentException image =
        assertThrows(IllegalArgumentException.class, () -> HfTokenizer.fromJson(noImage, "x"));
    assertTrue(image.getMessage().contains("no image placeholder token"), image.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HfTokenizer.fromJson("{", "broken"));
  }
}
