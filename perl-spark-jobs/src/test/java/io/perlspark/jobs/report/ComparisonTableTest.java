package io.perlspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ComparisonTableTest {

  private static Map<String, EvalReport> reports() {
    Map<String, EvalReport> m = new LinkedHashMap<>();
    m.put("warm start", Reports.biased());
    m.put("trained", Reports.trained());
    return m;
  }

  private static List<String> cells(List<ComparisonTable.Row> rows, String figure) {
    return rows.stream().filter(r -> r.figure().equals(figure)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + figure + " in " + rows)).cells();
  }

  @Test
  void comparesTheFiguresOfOneSplit() {
    List<ComparisonTable.Row> rows = ComparisonTable.rows(reports(), "eval");
    assertEquals(List.of("3", "3"), cells(rows, "samples"));
    assertEquals(List.of("0.333", "0.667"), cells(rows, "multi-image accuracy"));
    assertEquals(List.of("–", "–"), cells(rows, "single-image accuracy"));
    assertEquals(List.of("0.333", "0.667"), cells(rows, "accuracy, all image orders"));
    assertEquals(List.of("1.000", "1.000"), cells(rows, "accuracy, answer at image 1"));
    assertEquals(List.of("0.000", "1.000"), cells(rows, "accuracy, answer at image 2"));
    assertEquals(List.of("0.000", "0.000"), cells(rows, "accuracy, answer at image 3"));
    assertEquals(List.of("1.000", "0.333"), cells(rows, "answers naming image 1"));
    assertEquals(List.of("+1.000", "+0.500"), cells(rows, "positional-bias gap"));
    assertEquals(List.of("0.000", "1.000"), cells(rows, "permutation consistency"));
    assertEquals(List.of("0.000", "0.667"), cells(rows, "consistent and correct"));
    assertEquals(List.of("1.000", "1.000"), cells(rows, "format rate"));
  }

  @Test
  void pooledSplitsKeepSingleImageAccuracy() {
    List<ComparisonTable.Row> rows = ComparisonTable.rows(reports(), null);
    assertEquals(List.of("0.500", "1.000"), cells(rows, "single-image accuracy"));
    assertEquals(List.of("5", "5"), cells(rows, "samples"));
  }

  @Test
  void markdownAndConsoleRendering() {
    String md = ComparisonTable.markdown(reports(), "eval");
    List<String> lines = md.lines().collect(Collectors.toList());
    assertEquals("| split eval | warm start | trained |", lines.get(0));
    assertEquals("|---|--:|--:|", lines.get(1));
    assertTrue(lines.contains("| positional-bias gap | +1.000 | +0.500 |"), md);
    assertEquals(ComparisonTable.rows(reports(), "eval").size() + 2, lines.size());

    String console = ComparisonTable.console(reports(), null);
    List<String> consoleLines = console.lines().collect(Collectors.toList());
    // right-aligned columns: every line ends in the same column
    int width = consoleLines.get(0).length();
    consoleLines.forEach(l -> assertEquals(width, l.length(), "misaligned: '" + l + "' in\n" + console));
    assertTrue(consoleLines.get(0).startsWith("all splits"), console);
  }

  @Test
  void emptyReportsRenderDashes() {
    Map<String, EvalReport> m = new LinkedHashMap<>();
    m.put("nothing", EvalAggregator.aggregate(List.of()));
    List<ComparisonTable.Row> rows = ComparisonTable.rows(m, null);
    assertEquals(List.of("–"), cells(rows, "multi-image accuracy"));
    assertEquals(List.of("–"), cells(rows, "positional-bias gap"));
    assertTrue(ComparisonTable.console(m, null).contains("nothing"));
  }

  @Test
  void missingSplitOrNoReportsAreClearErrors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ComparisonTable.rows(reports(), "val"));
    assertTrue(e.getMessage().contains("report 'warm start'") && e.getMessage().contains("eval, eval_single"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ComparisonTable.rows(Map.of(), null));
  }
}
