package io.perlspark.jobs.report;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalRecord;
import io.perlspark.common.eval.EvalReport;
import java.util.ArrayList;
import java.util.List;

/** Small hand-made eval reports for the report tests. */
final class Reports {
  private Reports() {}

  static EvalRecord whichImage(String split, String id, int n, int perm, int[] order, int answer, int predicted) {
    return new EvalRecord(split, id, "which_image", AnswerKind.IMAGE_INDEX, n, perm, order, answer,
        Integer.toString(answer), predicted == 0 ? null : Integer.toString(predicted), predicted,
        predicted == answer, predicted != 0, 15);
  }

  static EvalRecord single(String split, String id, boolean correct) {
    return new EvalRecord(split, id, "single", AnswerKind.YES_NO, 1, 0, new int[] {0}, 0, "yes",
        correct ? "yes" : "no", 0, correct, true, 12);
  }

  /**
   * A position-biased policy: always answers "1". On 3-image samples with the answer at 1, 2, 3
   * and each also under the order [1,0,2].
   */
  static EvalReport biased() {
    List<EvalRecord> r = new ArrayList<>();
    for (int answer = 1; answer <= 3; answer++) {
      r.add(whichImage("eval", "s" + answer, 3, 0, new int[] {0, 1, 2}, answer, 1));
      int moved = answer == 1 ? 2 : answer == 2 ? 1 : 3;
      r.add(whichImage("eval", "s" + answer, 3, 1, new int[] {1, 0, 2}, moved, 1));
    }
    r.add(single("eval_single", "t1", true));
    r.add(single("eval_single", "t2", false));
    return EvalAggregator.aggregate(r);
  }

  /** A policy that sees the images: right everywhere but on one 3rd-position sample. */
  static EvalReport trained() {
    List<EvalRecord> r = new ArrayList<>();
    for (int answer = 1; answer <= 3; answer++) {
      int moved = answer == 1 ? 2 : answer == 2 ? 1 : 3;
      boolean right = answer != 3;
      r.add(whichImage("eval", "s" + answer, 3, 0, new int[] {0, 1, 2}, answer, right ? answer : 2));
      r.add(whichImage("eval", "s" + answer, 3, 1, new int[] {1, 0, 2}, moved, right ? moved : 1));
    }
    r.add(single("eval_single", "t1", true));
    r.add(single("eval_single", "t2", true));
    return EvalAggregator.aggregate(r);
  }
}
