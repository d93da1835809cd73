package io.perlspark.common.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampleValidatorTest {
  private static final ValidationLimits LIMITS = ValidationLimits.defaults();

  private static List<ImageRef> images(int n) {
    List<ImageRef> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(ImageRef.ofUri("img/" + i + ".png"));
    }
    return out;
  }

  private static Sample sample(String id, int n, String prompt, String answer, AnswerKind kind, List<Integer> slots) {
    return new Sample(id, images(n), prompt, answer, kind, true, slots, "fam", "train.jsonl", List.of());
  }

  private static Sample valid() {
    return sample("r1", 2, "<image><image> Which image is red?", "2", AnswerKind.IMAGE_INDEX, List.of());
  }

  private static Rejection only(Sample s, RejectReason expected) {
    return only(s, LIMITS, expected);
  }

  private static Rejection only(Sample s, ValidationLimits limits, RejectReason expected) {
    List<Rejection> r = SampleValidator.validate(s, limits);
    assertEquals(1, r.size(), r.toString());
    assertEquals(expected, r.get(0).reason(), r.toString());
    return r.get(0);
  }

  @Test
  void validSamplePasses() {
    assertEquals(List.of(), SampleValidator.validate(valid(), LIMITS));
    assertEquals(List.of(), SampleValidator.validate(
        sample("r2", 3, "<image><image><image> pick", "c", AnswerKind.OPTION_LETTER, List.of(2, 0, 1)), LIMITS));
    assertEquals(List.of(), SampleValidator.validate(
        sample("r3", 3, "<image><image><image> order", "[3, 1]", AnswerKind.ORDERING, List.of()), LIMITS));
  }

  @Test
  void blankIdIsAMissingFieldReportedUnderTheGivenRow() {
    List<Rejection> r = SampleValidator.validate(valid().withId(" "), LIMITS, "a.jsonl", "line 7");
    assertEquals(1, r.size(), r.toString());
    assertEquals(RejectReason.MISSING_FIELD, r.get(0).reason());
    assertEquals("line 7", r.get(0).rowId());
    assertEquals("a.jsonl", r.get(0).sourceFile());
  }

  @Test
  void emptyPromptAndAnswer() {
    Sample noPrompt = sample("p", 0, " ", "2", AnswerKind.NUMBER, List.of());
    assertEquals(RejectReason.EMPTY_PROMPT,
        only(noPrompt, LIMITS.withMinImages(0), RejectReason.EMPTY_PROMPT).reason());
    only(valid().withAnswer(""), RejectReason.EMPTY_ANSWER);
  }

  @Test
  void promptOverTheLimitIsMalformed() {
    Rejection r = only(valid(), LIMITS.withMaxPromptChars(10), RejectReason.PROMPT_TOO_LONG);
    assertTrue(r.detail().contains("limit 10"), r.detail());
  }

  @Test
  void placeholderMismatchSaysBothCounts() {
    Rejection r = only(sample("m", 2, "<image><image><image> q", "1", AnswerKind.IMAGE_INDEX, List.of()),
        RejectReason.PLACEHOLDER_MISMATCH);
    assertEquals("prompt has 3 <image> placeholders but 2 images", r.detail());
    assertEquals("m", r.rowId());
    assertEquals("train.jsonl", r.sourceFile());
  }

  @Test
  void imageCountLimits() {
    only(sample("none", 0, "what?", "3", AnswerKind.NUMBER, List.of()), RejectReason.NO_IMAGES);
    only(sample("many", 9, "<image>".repeat(9) + " q", "3", AnswerKind.NUMBER, List.of()), RejectReason.TOO_MANY_IMAGES);
  }

  @Test
  void answersThatDoNotParseForTheirKind() {
    String p2 = "<image><image> q";
    only(sample("a1", 2, p2, "3", AnswerKind.IMAGE_INDEX, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a2", 2, p2, "second", AnswerKind.IMAGE_INDEX, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a3", 2, p2, "1,1", AnswerKind.ORDERING, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a4", 2, p2, "1,3", AnswerKind.ORDERING, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a5", 2, p2, "AB", AnswerKind.OPTION_LETTER, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a6", 2, p2, "C", AnswerKind.OPTION_LETTER, List.of(0, 1)), RejectReason.ANSWER_NOT_PARSEABLE);
    only(sample("a7", 2, p2, "maybe", AnswerKind.YES_NO, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    Rejection r = only(sample("a8", 2, p2, "two", AnswerKind.NUMBER, List.of()), RejectReason.ANSWER_NOT_PARSEABLE);
    assertTrue(r.detail().contains("'two'") && r.detail().contains("number"), r.detail());
  }

  @Test
  void badOptionSlots() {
    String p3 = "<image><image><image> q";
    only(sample("o1", 3, p3, "A", AnswerKind.OPTION_LETTER, List.of(0, 3)), RejectReason.BAD_OPTION_SLOTS);
    only(sample("o2", 3, p3, "A", AnswerKind.OPTION_LETTER, List.of(1, 1)), RejectReason.BAD_OPTION_SLOTS);
    only(sample("o3", 3, p3, "A", AnswerKind.OPTION_LETTER, List.of(-1, 0)), RejectReason.BAD_OPTION_SLOTS);
    only(sample("o4", 3, p3, "2", AnswerKind.IMAGE_INDEX, List.of(0, 1)), RejectReason.BAD_OPTION_SLOTS);
  }

  @Test
  void everyProblemIsReportedNotOnlyTheFirst() {
    Sample s = sample("multi", 2, "<image> q", "", AnswerKind.IMAGE_INDEX, List.of());
    List<RejectReason> reasons = SampleValidator.validate(s, LIMITS).stream().map(Rejection::reason).toList();
    assertEquals(List.of(RejectReason.EMPTY_ANSWER, RejectReason.PLACEHOLDER_MISMATCH), reasons);
  }

  @Test
  void validateImagesNamesTheImage() {
    Sample s = new Sample("img", List.of(ImageRef.ofUri("a.png"), ImageRef.ofBytes(new byte[0])),
        "<image><image> q", "1", AnswerKind.IMAGE_INDEX, true, List.of(), "", "", List.of());
    List<Rejection> r = SampleValidator.validateImages(s, LIMITS, "f.parquet", "img");
    assertEquals(1, r.size(), r.toString());
    assertEquals(RejectReason.IMAGE_EMPTY, r.get(0).reason());
    assertTrue(r.get(0).detail().startsWith("image 2:"), r.get(0).detail());
  }
}
