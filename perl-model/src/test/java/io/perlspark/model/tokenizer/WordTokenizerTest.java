package io.perlspark.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class WordTokenizerTest {
  static final WordTokenizer TOKENIZER =
      WordTokenizer.of(
          List.of("which", "image", "shows", "a", "red", "circle", "?", "1", "2", "<think>",
              "</think>", "\\boxed{", "}", "img", ","));

  @Test
  void specialTokensHaveFixedIds() {
    assertEquals(0, TOKENIZER.padId());
    assertEquals(1, TOKENIZER.bosId());
    assertEquals(2, TOKENIZER.eosId());
    assertEquals(3, TOKENIZER.unkId());
    assertEquals(4, TOKENIZER.imageId());
    assertEquals(4, TOKENIZER.id("<image>").getAsInt());
    assertEquals(5, TOKENIZER.id("which").getAsInt());
    assertEquals(5 + 15, TOKENIZER.vocabSize());
    assertFalse(TOKENIZER.id("blue").isPresent());
  }

  @Test
  void ruleSplitsAtomicTagsLetterRunsDigitsAndPunctuation() {
    assertEquals(
        List.of("<image>", "<image>", "which", "image", "shows", "a", "red", "circle", "?"),
        WordTokenizer.split("<image><image> Which  image\tshows a RED circle?"));
    assertEquals(
        List.of("<think>", "img", "1", "2", "red", "</think>", "\\boxed{", "1", "2", "}"),
        WordTokenizer.split("<think>img12 red</think>\\boxed{12}"));
    assertEquals(List.of("<", "eos", ">", ",", "."), WordTokenizer.split("<eos>,."));
  }

  @Test
  void roundTripJoinsWithSingleSpacesAndSkipsPad() {
    String text = "<image> <image> which image shows a red circle ? <think> img 1 red circle"
        + " </think> \\boxed{ 1 }";
    int[] ids = TOKENIZER.encode(text);
    assertEquals(text, TOKENIZER.decode(ids));
    int[] padded = new int[ids.length + 3];
    System.arraycopy(ids, 0, padded, 0, ids.length);
    assertEquals(text, TOKENIZER.decode(padded));
    int red = TOKENIZER.id("red").getAsInt();
    assertEquals("<bos> red <eos>", TOKENIZER.decode(new int[] {1, red, 2}));
    assertEquals("which , image", TOKENIZER.decode(TOKENIZER.encode("Which,image")));
  }

  @Test
  void unknownWordsBecomeUnk() {
    int[] ids = TOKENIZER.encode("a blue circle");
    assertArrayEquals(
        new int[] {TOKENIZER.id("a").getAsInt(), 3, TOKENIZER.id("circle").getAsInt()}, ids);
    assertEquals("a <unk> circle", TOKENIZER.decode(ids));
    IllegalArgumentException outOfRange =
        assertThrows(IllegalArgumentException.class, () -> TOKENIZER.decode(new int[] {99}));
    assertTrue(outOfRange.getMessage().contains("99"));
  }

  @Test
  void badWordListsAreRejected() {
    IllegalArgumentException dup =
        assertThrows(
            IllegalArgumentException.class, () -> WordTokenizer.of(List.of("a", "b", "a")));
    assertTrue(dup.getMessage().contains("duplicate word 'a' at index 2"), dup.getMessage());
    IllegalArgumentException never =
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.of(List.of("Red")));
    assertTrue(never.getMessage().contains("can never be produced"), never.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WordTokenizer.of(List.of("12")));
    // Naming a special token in the list is allowed and changes nothing.
    assertEquals(
        WordTokenizer.of(List.of("a")).tokens(),
        WordTokenizer.of(List.of("<image>", "a")).tokens());
  }

  @Test
  void travelsAsSourceAndAsJavaObject() throws Exception {
    TextTokenizer copy = TOKENIZER.source().open();
    assertArrayEquals(TOKENIZER.encode("which red ?"), copy.encode("which red ?"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(TOKENIZER);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      WordTokenizer read = (WordTokenizer) in.readObject();
      assertEquals(TOKENIZER.tokens(), read.tokens());
      assertArrayEquals(TOKENIZER.encode("a red circle"), read.encode("a red circle"));
    }
  }
}
