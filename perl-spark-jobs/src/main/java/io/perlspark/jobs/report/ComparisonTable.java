package io.perlspark.jobs.report;

import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.eval.ScopeReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Several named reports side by side (e.g. "warm start" vs "trained"): one row per figure, one
 * column per report, in the map's order. The figures are those PeRL is about: multi-image accuracy
 * on a balanced split, single-image accuracy kept, accuracy by answer position, the share of
 * answers naming image 1, the positional-bias gap, permutation consistency and format.
 */
public final class ComparisonTable {
  private ComparisonTable() {}

  /** One figure across the reports. */
  public record Row(String figure, List<String> cells) {
    public Row {
      cells = List.copyOf(cells);
    }
  }

  /**
   * The rows for one split of every report ({@code split} null: all splits pooled).
   *
   * @throws IllegalArgumentException when {@code reports} is empty, or a report lacks the split
   *     (naming the report and the splits it has)
   */
  public static List<Row> rows(Map<String, EvalReport> reports, String split) {
    Objects.requireNonNull(reports, "reports");
    if (reports.isEmpty()) {
      throw new IllegalArgumentException("nothing to compare: no eval reports given");
    }
    Map<String, ScopeReport> scopes = new LinkedHashMap<>();
    for (Map.Entry<String, EvalReport> e : reports.entrySet()) {
      try {
        scopes.put(e.getKey(), e.getValue().scope(split));
      } catch (IllegalArgumentException missing) {
        throw new IllegalArgumentException("report '" + e.getKey() + "': " + missing.getMessage(), missing);
      }
    }
    int maxPosition = 0;
    for (ScopeReport s : scopes.values()) {
      maxPosition = Math.max(maxPosition, s.positional().byPosition().size());
    }
    List<Row> rows = new ArrayList<>();
    rows.add(row(scopes, "samples", s -> Format.count(s.metrics().samples())));
    rows.add(row(scopes, "multi-image accuracy", s -> Format.rate(s.multiImage().accuracy())));
    rows.add(row(scopes, "single-image accuracy", s -> Format.rate(s.singleImage().accuracy())));
    rows.add(row(scopes, "accuracy, all samples", s -> Format.rate(s.metrics().accuracy())));
    rows.add(row(scopes, "accuracy, all image orders", s -> Format.rate(s.metrics().accuracyAllPermutations())));
    for (int p = 1; p <= maxPosition; p++) {
      int position = p;
      rows.add(row(scopes, "accuracy, answer at image " + p, s -> Format.rate(s.positional().accuracyAt(position))));
    }
    rows.add(row(scopes, "answers naming image 1", s -> Format.rate(s.positional().shareNamingImage1())));
    rows.add(row(scopes, "naming image 1 by uniform guessing", s -> Format.rate(s.positional().chanceShareNamingImage1())));
    rows.add(row(scopes, "positional-bias gap", s -> Format.signed(s.positional().biasGap())));
    rows.add(row(scopes, "permutation consistency", s -> Format.rate(s.consistency().consistency())));
    rows.add(row(scopes, "consistent and correct", s -> Format.rate(s.consistency().consistentAndCorrectShare())));
    rows.add(row(scopes, "format rate", s -> Format.rate(s.metrics().formatRate())));
    return rows;
  }

  /** A Markdown table; the first header cell names the split. */
  public static String markdown(Map<String, EvalReport> reports, String split) {
    List<Row> rows = rows(reports, split);
    return Format.markdownTable(header(reports, split), cells(rows));
  }

  /** The same table aligned for a terminal. */
  public static String console(Map<String, EvalReport> reports, String split) {
    List<Row> rows = rows(reports, split);
    return Format.consoleTable(header(reports, split), cells(rows));
  }

  private static Row row(Map<String, ScopeReport> scopes, String figure, Function<ScopeReport, String> cell) {
    List<String> cells = new ArrayList<>();
    scopes.values().forEach(s -> cells.add(cell.apply(s)));
    return new Row(figure, cells);
  }

  private static List<String> header(Map<String, EvalReport> reports, String split) {
    List<String> h = new ArrayList<>();
    h.add(split == null ? "all splits" : "split " + split);
    h.addAll(reports.keySet());
    return h;
  }

  private static List<List<String>> cells(List<Row> rows) {
    List<List<String>> out = new ArrayList<>();
    for (Row r : rows) {
      List<String> line = new ArrayList<>();
      line.add(r.figure());
      line.addAll(r.cells());
      out.add(line);
    }
    return out;
  }
}
