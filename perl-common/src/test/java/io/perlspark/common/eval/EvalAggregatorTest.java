package io.perlspark.common.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.data.AnswerKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvalAggregatorTest {
  private static final double EPS = 1e-12;

  static void assertRate(double expected, Double actual) {
    assertNotNull(actual, "rate is undefined, expected " + expected);
    assertEquals(expected, actual, EPS);
  }

  /** Five samples over two splits; one of them also under a second order. */
  static List<EvalRecord> mixed() {
    return List.of(
        Rec.whichImage("w1", 2, 1, 1).length(10).build(),
        Rec.whichImage("w2", 3, 2, 1).length(20).build(),
        // the same sample with images 1 and 2 swapped: the answer image is now first
        Rec.whichImage("w2", 3, 1, 1).perm(1, 1, 0, 2).length(30).build(),
        Rec.of("c1").family("count").kind(AnswerKind.NUMBER).images(3).gold("2").predicted("2").correct(true)
            .formatOk(false).length(12).build(),
        Rec.of("s1").family("single").kind(AnswerKind.TEXT).images(1).gold("red").predicted("red").correct(true)
            .length(8).build(),
        Rec.whichImage("w3", 4, 4, 0).split("eval_b").formatOk(false).length(6).build());
  }

  @Test
  void overallSplitAndFamilyFigures() {
    EvalReport report = EvalAggregator.aggregate(mixed());
    assertEquals(6, report.records());

    GroupMetrics all = report.overall().metrics();
    assertEquals(5, all.samples());
    assertEquals(3, all.correct());
    assertRate(3.0 / 5, all.accuracy());
    assertEquals(6, all.responses());
    assertRate(4.0 / 6, all.accuracyAllPermutations()); // w1, w2 permuted, c1, s1
    assertRate(3.0 / 5, all.formatRate());
    assertRate((10 + 20 + 12 + 8 + 6) / 5.0, all.meanResponseLength()); // the permuted copy's 30 is not counted

    GroupMetrics which = report.overall().families().get("which_image");
    assertEquals(3, which.samples());
    assertRate(1.0 / 3, which.accuracy());
    assertRate(2.0 / 4, which.accuracyAllPermutations());
    assertRate(2.0 / 3, which.formatRate());
    assertRate(12.0, which.meanResponseLength());
    assertRate(1.0, report.overall().families().get("count").accuracy());
    assertRate(0.0, report.overall().families().get("count").formatRate());
    assertEquals(List.of("count", "single", "which_image"), List.copyOf(report.overall().families().keySet()));

    assertEquals(4, report.overall().multiImage().samples());
    assertRate(2.0 / 4, report.overall().multiImage().accuracy());
    assertEquals(1, report.overall().singleImage().samples());
    assertRate(1.0, report.overall().singleImage().accuracy());

    assertEquals(List.of("eval", "eval_b"), List.copyOf(report.splits().keySet()));
    assertRate(3.0 / 4, report.scope("eval").metrics().accuracy());
    assertRate(0.0, report.scope("eval_b").metrics().accuracy());
    assertEquals(1, report.scope("eval_b").families().size());
    assertEquals(report.overall(), report.scope(null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> report.scope("val"));
    assertTrue(e.getMessage().contains("'val'") && e.getMessage().contains("eval, eval_b"), e.getMessage());
  }

  @Test
  void positionalBiasByPositionNamingImage1AndGap() {
    List<EvalRecord> records = List.of(
        Rec.whichImage("a", 3, 1, 1).build(),
        Rec.whichImage("b", 3, 1, 1).build(),
        Rec.whichImage("c", 3, 2, 2).build(),
        Rec.whichImage("d", 3, 2, 1).build(),
        Rec.whichImage("e", 3, 3, 1).build(),
        Rec.whichImage("f", 2, 2, 2).build(),
        // option B bound to the 2nd image, prediction A names the 1st
        Rec.of("g").family("which_option").kind(AnswerKind.OPTION_LETTER).images(2).answerAt(2).gold("B")
            .predicted("A").predictedPosition(1).correct(false).build(),
        // not an image answer: ignored
        Rec.of("h").family("count").kind(AnswerKind.NUMBER).images(3).gold("1").predicted("1").correct(true).build(),
        // a permuted copy: positional figures use the original order only
        Rec.whichImage("f", 2, 1, 1).perm(1, 1, 0).build());
    PositionalBias bias = EvalAggregator.aggregate(records).overall().positional();

    assertEquals(7, bias.samples());
    assertEquals(List.of(new PositionAccuracy(1, 2, 2, 1.0), new PositionAccuracy(2, 4, 2, 0.5),
        new PositionAccuracy(3, 1, 0, 0.0)), bias.byPosition());
    assertRate(0.5, bias.accuracyAt(2));
    assertNull(bias.accuracyAt(4));
    assertEquals(5, bias.namingImage1()); // a, b, d, e, g
    assertRate(5.0 / 7, bias.shareNamingImage1());
    assertRate((5 / 3.0 + 2 / 2.0) / 7, bias.chanceShareNamingImage1());
    assertRate(1.0, bias.accuracyAtPosition1());
    assertRate(2.0 / 5, bias.accuracyAtOtherPositions());
    assertRate(1.0 - 2.0 / 5, bias.biasGap());
    assertRate(1.0 - (0.5 + 0.0) / 2, bias.biasGapPositionMean());
  }

  @Test
  void positionWithoutSamplesHasNullAccuracyAndNoGapWithoutFirstPosition() {
    PositionalBias bias = EvalAggregator.aggregate(List.of(Rec.whichImage("x", 3, 3, 3).build())).overall().positional();
    assertEquals(List.of(new PositionAccuracy(1, 0, 0, null), new PositionAccuracy(2, 0, 0, null),
        new PositionAccuracy(3, 1, 1, 1.0)), bias.byPosition());
    assertNull(bias.accuracyAtPosition1());
    assertNull(bias.biasGap());
    assertNull(bias.biasGapPositionMean());
    assertRate(0.0, bias.shareNamingImage1());
  }

  @Test
  void consistencyCountsOnlySamplesWithTwoOrMorePermutations() {
    List<EvalRecord> records = List.of(
        // consistent and correct: "2" under the original order, "1" once images 1 and 2 swap
        Rec.whichImage("same", 2, 2, 2).build(),
        Rec.whichImage("same", 2, 1, 1).perm(1, 1, 0).build(),
        // always answers "1": a different image each time
        Rec.whichImage("first", 2, 2, 1).build(),
        Rec.whichImage("first", 2, 1, 1).perm(1, 1, 0).build(),
        // consistent but wrong: names original image 1 under both orders
        Rec.whichImage("wrong", 2, 2, 1).build(),
        Rec.whichImage("wrong", 2, 1, 2).perm(1, 1, 0).build(),
        // evaluated once: not counted
        Rec.whichImage("once", 2, 1, 1).build(),
        Rec.of("n").family("count").kind(AnswerKind.NUMBER).images(2).gold("1").predicted("1").correct(true).build(),
        Rec.of("n").family("count").kind(AnswerKind.NUMBER).images(2).gold("1").predicted("1").correct(true)
            .perm(1, 1, 0).build());
    ScopeReport scope = EvalAggregator.aggregate(records).overall();
    assertEquals(ConsistencyStats.of(4, 3, 2), scope.consistency());
    assertRate(3.0 / 4, scope.consistency().consistency());
    assertRate(2.0 / 4, scope.consistency().consistentAndCorrectShare());
    assertEquals(ConsistencyStats.of(3, 2, 1), scope.familyConsistency().get("which_image"));
    assertEquals(ConsistencyStats.of(1, 1, 1), scope.familyConsistency().get("count"));
  }

  @Test
  void emptyInputGivesZeroCountsAndNoRates() {
    EvalReport report = EvalAggregator.aggregate(List.of());
    assertEquals(0, report.records());
    assertEquals(ScopeReport.EMPTY, report.overall());
    assertTrue(report.splits().isEmpty());
    assertNull(report.overall().metrics().accuracy());
    assertNull(report.overall().metrics().meanResponseLength());
    assertNull(report.overall().consistency().consistency());
    assertNull(report.overall().positional().shareNamingImage1());
    assertEquals(report, new EvalAggregator().merge(new EvalAggregator()).report());
  }

  @Test
  void groupWithOnlyPermutedCopiesHasUndefinedOriginalRates() {
    GroupMetrics m = EvalAggregator.aggregate(List.of(Rec.whichImage("p", 2, 1, 1).perm(1, 1, 0).build()))
        .overall().metrics();
    assertEquals(0, m.samples());
    assertNull(m.accuracy());
    assertNull(m.formatRate());
    assertRate(1.0, m.accuracyAllPermutations());
  }

  @Test
  void duplicateRecordsAndInconsistentSamplesAreRefused() {
    EvalRecord r = Rec.whichImage("dup", 2, 1, 1).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new EvalAggregator().add(r).add(r));
    assertTrue(e.getMessage().contains("'dup'") && e.getMessage().contains("permIndex 0"), e.getMessage());

    EvalAggregator a = new EvalAggregator().add(r);
    EvalAggregator b = new EvalAggregator().add(r);
    assertThrows(IllegalArgumentException.class, () -> a.merge(b));
    assertThrows(IllegalArgumentException.class, () -> a.merge(a));

    EvalRecord otherCount = Rec.whichImage("dup", 3, 1, 1).perm(1, 0, 2, 1).build();
    e = assertThrows(IllegalArgumentException.class, () -> new EvalAggregator().add(r).add(otherCount));
    assertTrue(e.getMessage().contains("disagree"), e.getMessage());
  }

  @Test
  void mergeLeavesTheOtherAccumulatorUnchanged() {
    EvalAggregator other = new EvalAggregator().add(Rec.whichImage("x", 2, 1, 1).build());
    EvalReport before = other.report();
    EvalAggregator into = new EvalAggregator().add(Rec.whichImage("x", 2, 2, 2).perm(1, 1, 0).build());
    into.merge(other);
    into.add(Rec.whichImage("y", 2, 1, 1).build());
    assertEquals(before, other.report());
    assertEquals(3, into.records());
    assertEquals(1, into.report().overall().consistency().consistent());
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    EvalAggregator a = new EvalAggregator();
    mixed().forEach(a::add);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(a);
      out.writeObject(a.report());
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      EvalAggregator copy = (EvalAggregator) in.readObject();
      EvalReport report = (EvalReport) in.readObject();
      assertEquals(a.report(), copy.report());
      assertEquals(a.report(), report);
    }
  }
}
