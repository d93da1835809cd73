package io.perlspark.common.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvalRecordTest {

  private static Sample sample(String answer, AnswerKind kind, int n, List<Integer> optionSlots, String family) {
    List<ImageRef> images = new ArrayList<>();
    StringBuilder prompt = new StringBuilder();
    for (int i = 0; i < n; i++) {
      images.add(ImageRef.ofUri("img" + i + ".png"));
      prompt.append("<image> ");
    }
    prompt.append("which one ?");
    return new Sample("s7", images, prompt.toString(), answer, kind, true, optionSlots, family, "test", List.of());
  }

  @Test
  void ofRemapsTheGoldAndDerivesPositions() {
    Sample s = sample("3", AnswerKind.IMAGE_INDEX, 3, List.of(), "which_image");
    // [2,0,1]: original image 3 now sits first
    EvalRecord r = EvalRecord.of("eval", s, 1, new int[] {2, 0, 1}, "2", false, true, 14);
    assertEquals("s7", r.sampleId());
    assertEquals("which_image", r.family());
    assertEquals("1", r.goldAnswer());
    assertEquals(1, r.answerPosition());
    assertEquals(2, r.predictedPosition());
    assertEquals(3, r.imageCount());

    Sample option = sample("C", AnswerKind.OPTION_LETTER, 3, List.of(0, 1, 2), "which_option");
    EvalRecord o = EvalRecord.of("eval", option, 1, new int[] {2, 0, 1}, "B", false, true, 9);
    assertEquals("A", o.goldAnswer());
    assertEquals(1, o.answerPosition());
    assertEquals(2, o.predictedPosition());

    EvalRecord none = EvalRecord.of("eval", s, 0, new int[] {0, 1, 2}, null, false, false, 0);
    assertEquals(3, none.answerPosition());
    assertEquals(0, none.predictedPosition());

    Sample count = sample("2", AnswerKind.NUMBER, 3, List.of(), "count");
    assertEquals(0, EvalRecord.of("eval", count, 0, new int[] {0, 1, 2}, "2", true, true, 5).answerPosition());
  }

  @Test
  void invalidRecordsAreRefusedWithTheirCoordinates() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Rec.whichImage("bad", 3, 1, 1).perm(1, 0, 0, 1).build());
    assertTrue(e.getMessage().contains("'bad'") && e.getMessage().contains("not a permutation"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Rec.whichImage("id0", 2, 1, 1).perm(0, 1, 0).build());
    assertTrue(e.getMessage().contains("permIndex 0 is the original order"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Rec.whichImage("len", 2, 1, 1).perm(1, 0).build());
    assertTrue(e.getMessage().contains("order has 1 entries but imageCount is 2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Rec.whichImage("pos", 2, 1, 1).predictedPosition(3).build());
    assertTrue(e.getMessage().contains("predictedPosition must be in 0..2"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Rec.whichImage("neg", 2, 1, 1).length(-1).build());
    assertThrows(NullPointerException.class, () -> Rec.whichImage("kind", 2, 1, 1).kind(null).build());
  }

  @Test
  void orderIsCopiedAndComparedByValue() {
    int[] order = {1, 0};
    EvalRecord a = new EvalRecord("eval", "x", null, AnswerKind.IMAGE_INDEX, 2, 1, order, 1, "1", "1", 1, true,
        true, 3);
    order[0] = 0;
    assertArrayEquals(new int[] {1, 0}, a.order());
    a.order()[0] = 0;
    assertEquals(1, a.originalSlotAt(0));
    assertEquals("", a.family());
    EvalRecord b = new EvalRecord("eval", "x", "", AnswerKind.IMAGE_INDEX, 2, 1, new int[] {1, 0}, 1, "1", "1", 1,
        true, true, 3);
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, Rec.whichImage("x", 2, 1, 1).perm(1, 1, 0).length(4).build());
  }

  @Test
  void roundTripsThroughJson() throws Exception {
    ObjectMapper json = new ObjectMapper();
    EvalRecord r = Rec.whichImage("j", 3, 2, 0).perm(2, 2, 0, 1).build();
    String text = json.writeValueAsString(r);
    assertTrue(text.contains("\"order\":[2,0,1]") && !text.contains("\"original\""), text);
    assertEquals(r, json.readValue(text, EvalRecord.class));
  }

  @Test
  void answerSlotsNamesOnlySingleImages() {
    assertEquals(2, AnswerSlots.slotNamed(AnswerKind.IMAGE_INDEX, "2", 3, List.of()));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.IMAGE_INDEX, "5", 3, List.of()));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.IMAGE_INDEX, "two", 3, List.of()));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.IMAGE_INDEX, null, 3, List.of()));
    // option B bound to slot 2 (0-based) → the 3rd image
    assertEquals(3, AnswerSlots.slotNamed(AnswerKind.OPTION_LETTER, "B", 3, List.of(1, 2)));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.OPTION_LETTER, "C", 3, List.of(1, 2)));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.OPTION_LETTER, "B", 3, List.of()));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.ORDERING, "1,2", 2, List.of()));
    assertEquals(0, AnswerSlots.slotNamed(AnswerKind.NUMBER, "1", 2, List.of()));
  }
}
