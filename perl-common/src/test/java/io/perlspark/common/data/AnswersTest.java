package io.perlspark.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AnswersTest {

  @Test
  void indexSequencesAcceptSeveralSeparators() {
    for (String s : List.of("2,3,1", "2 3 1", "2>3>1", "[2, 3, 1]", "2;3;1", " 2 , 3 > 1 ")) {
      assertArrayEquals(new int[] {2, 3, 1}, Answers.parseIndexSequence(s), s);
    }
    assertEquals("2,3,1", Answers.formatIndexSequence(new int[] {2, 3, 1}));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "[]", "a,b", "1,-2", "0,1", "1.5,2", "1,,x"})
  void badSequencesNameTheText(String s) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Answers.parseIndexSequence(s));
    assertTrue(s.isEmpty() || e.getMessage().contains("'" + s + "'"), e.getMessage());
  }

  @Test
  void sequenceRangeAndDistinctness() {
    assertDoesNotThrow(() -> Answers.checkIndexSequence(new int[] {3, 1}, 3, "3,1"));
    assertThrows(IllegalArgumentException.class, () -> Answers.checkIndexSequence(new int[] {4, 1}, 3, "4,1"));
    assertThrows(IllegalArgumentException.class, () -> Answers.checkIndexSequence(new int[] {1, 1}, 3, "1,1"));
  }

  @Test
  void numbers() {
    assertEquals(3.0, Answers.parseNumber("3"));
    assertEquals(-0.5, Answers.parseNumber(" -0.5 "));
    assertEquals(0.5, Answers.parseNumber(".5"));
    assertEquals(0.75, Answers.parseNumber("3/4"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseNumber("1/0"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseNumber("three"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseNumber("1e5x"));
  }

  @Test
  void lettersIndicesAndYesNo() {
    assertEquals('B', Answers.parseOptionLetter(" b "));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseOptionLetter("AB"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseOptionLetter("1"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseOptionLetter("é"));
    assertEquals(2, Answers.parseIndex(" 2 "));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseIndex("0"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseIndex("image 2"));
    assertTrue(Answers.parseYesNo("YES"));
    assertFalse(Answers.parseYesNo("no"));
    assertThrows(IllegalArgumentException.class, () -> Answers.parseYesNo("maybe"));
  }
}
