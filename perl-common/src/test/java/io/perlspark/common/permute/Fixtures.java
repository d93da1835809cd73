package io.perlspark.common.permute;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Samples whose images are distinct byte arrays, so tests can tell where each image went. */
final class Fixtures {
  private Fixtures() {}

  static List<ImageRef> images(int n) {
    List<ImageRef> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(ImageRef.ofBytes(new byte[] {(byte) 0x7f, (byte) i, (byte) (i * 31)}));
    }
    return out;
  }

  static String prompt(int n, String question) {
    return "<image>".repeat(n) + "\n" + question;
  }

  static Sample sample(String id, int n, AnswerKind kind, String answer, boolean orderSensitive, List<Integer> optionSlots) {
    return new Sample(id, images(n), prompt(n, "Which one shows the red circle?"), answer, kind, orderSensitive,
        optionSlots, "test", "fixtures", List.of());
  }

  static Sample sample(String id, int n, AnswerKind kind, String answer, boolean orderSensitive) {
    return sample(id, n, kind, answer, orderSensitive, List.of());
  }

  static Sample withPrompt(Sample s, String prompt) {
    return new Sample(s.id(), s.images(), prompt, s.answer(), s.answerKind(), s.orderSensitive(),
        s.optionImageSlots(), s.family(), s.dataSource(), s.stageTags());
  }

  static <T> Map<T, Integer> multiset(List<T> items) {
    Map<T, Integer> m = new HashMap<>();
    for (T t : items) {
      m.merge(t, 1, Integer::sum);
    }
    return m;
  }
}
