package io.perlspark.common.eval;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.permute.Permutations;

/** A fluent builder of hand-made eval records for tests. */
final class Rec {
  private String split = "eval";
  private final String id;
  private String family = "which_image";
  private AnswerKind kind = AnswerKind.IMAGE_INDEX;
  private int images = 2;
  private int perm;
  private int[] order;
  private int answerPosition;
  private String gold = "1";
  private String predicted;
  private int predictedPosition;
  private boolean correct;
  private boolean formatOk = true;
  private int length = 10;

  private Rec(String id) {
    this.id = id;
  }

  static Rec of(String id) {
    return new Rec(id);
  }

  /** An image-index question with {@code n} images, answer at {@code answer}, prediction {@code predicted} (0 = none). */
  static Rec whichImage(String id, int n, int answer, int predicted) {
    return of(id).images(n).answerAt(answer).predictedAt(predicted);
  }

  Rec split(String s) {
    split = s;
    return this;
  }

  Rec family(String f) {
    family = f;
    return this;
  }

  Rec kind(AnswerKind k) {
    kind = k;
    return this;
  }

  Rec images(int n) {
    images = n;
    return this;
  }

  /** Permutation {@code index} with the given order. */
  Rec perm(int index, int... o) {
    perm = index;
    order = o;
    return this;
  }

  /** Answer position and (for image indices) the gold answer. */
  Rec answerAt(int position) {
    answerPosition = position;
    gold = Integer.toString(position);
    return this;
  }

  /** Predicted position and (for image indices) the canonical prediction; correct iff it equals the answer. */
  Rec predictedAt(int position) {
    predictedPosition = position;
    predicted = position == 0 ? null : Integer.toString(position);
    correct = position != 0 && position == answerPosition;
    return this;
  }

  Rec gold(String g) {
    gold = g;
    return this;
  }

  Rec predicted(String p) {
    predicted = p;
    return this;
  }

  Rec predictedPosition(int p) {
    predictedPosition = p;
    return this;
  }

  Rec correct(boolean c) {
    correct = c;
    return this;
  }

  Rec formatOk(boolean f) {
    formatOk = f;
    return this;
  }

  Rec length(int l) {
    length = l;
    return this;
  }

  EvalRecord build() {
    int[] o = order != null ? order : Permutations.identity(images);
    return new EvalRecord(split, id, family, kind, images, perm, o, answerPosition, gold, predicted,
        predictedPosition, correct, formatOk, length);
  }
}
