package io.perlspark.common.permute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SlotSelectionTest {

  @Test
  void allCoversEverySlot() {
    assertArrayEquals(new int[] {0, 1, 2, 3}, SlotSelection.all().slotsFor(4));
    assertArrayEquals(new int[] {}, SlotSelection.all().slotsFor(0));
  }

  @Test
  void skipFirstKeepsReferenceImages() {
    assertArrayEquals(new int[] {1, 2, 3}, SlotSelection.skipFirst(1).slotsFor(4));
    assertArrayEquals(new int[] {2}, SlotSelection.skipFirst(2).slotsFor(3));
    assertArrayEquals(new int[] {}, SlotSelection.skipFirst(5).slotsFor(3));
  }

  @Test
  void listIgnoresSlotsBeyondTheImageCount() {
    assertArrayEquals(new int[] {1, 3}, SlotSelection.of(3, 1, 7).slotsFor(4));
  }

  @Test
  void parsesTheThreeFormsAndRoundTrips() {
    assertEquals(SlotSelection.all(), SlotSelection.parse(" ALL "));
    assertEquals(SlotSelection.skipFirst(2), SlotSelection.parse("skip-first:2"));
    assertEquals(SlotSelection.of(1, 2, 3), SlotSelection.parse("list:3, 1,2"));
    for (String text : new String[] {"all", "skip-first:1", "list:0,2,5"}) {
      assertEquals(text, SlotSelection.parse(text).toString());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"some", "skip-first:", "skip-first:x", "skip-first:-1", "list:", "list:1,,2",
      "list:1,1", "list:-3", "first:2"})
  void badSyntaxNamesTheText(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SlotSelection.parse(text));
    assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("skip-first:N"), e.getMessage());
  }
}
