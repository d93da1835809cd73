package io.perlspark.jobs.sweep;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;

/** The sweep's results: per arm (cells grouped over seeds), mean ± sample std of each metric. */
public final class SweepTable {
  private SweepTable() {}

  /** The metrics in the table, in order, with their column titles. */
  public static final Map<String, String> COLUMNS = new LinkedHashMap<>();

  static {
    COLUMNS.put("multi_image_accuracy", "balanced multi-image acc.");
    COLUMNS.put("single_image_accuracy", "single-image acc.");
    COLUMNS.put("positional_bias_gap", "positional-bias gap");
    COLUMNS.put("share_naming_image1", "answers naming image 1");
    COLUMNS.put("permutation_consistency", "permutation consistency");
    COLUMNS.put("frac_zero_std", "zero-variance groups");
    COLUMNS.put("train_seconds", "train wall s");
  }

  /** One arm of the table. */
  public record Arm(String arm, int done, int failed, Map<String, double[]> meanStd) {}

  public static List<CellResult> cells(Path sweepOut) throws IOException {
    List<CellResult> out = new ArrayList<>();
    Path dir = sweepOut.resolve("cells");
    if (!Files.exists(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        CellResult.read(p).ifPresent(out::add);
      }
    }
    return out;
  }

  public static List<Arm> arms(List<CellResult> cells) {
    return arms(cells, List.of());
  }

  /**
   * The arms in {@code order} (the grid's order, so the table reads as the sweep file does), then any
   * arm the order does not name (e.g. cells of an earlier grid) in folder order.
   */
  public static List<Arm> arms(List<CellResult> cells, List<String> order) {
    Map<String, List<CellResult>> byArm = new LinkedHashMap<>();
    for (String a : order) {
      byArm.put(a, new ArrayList<>());
    }
    for (CellResult c : cells) {
      byArm.computeIfAbsent(c.arm(), k -> new ArrayList<>()).add(c);
    }
    byArm.values().removeIf(List::isEmpty);
    List<Arm> arms = new ArrayList<>();
    for (Map.Entry<String, List<CellResult>> e : byArm.entrySet()) {
      Map<String, double[]> stats = new LinkedHashMap<>();
      int done = 0;
      for (CellResult c : e.getValue()) {
        done += c.done() ? 1 : 0;
      }
      for (String k : COLUMNS.keySet()) {
        List<Double> v = new ArrayList<>();
        for (CellResult c : e.getValue()) {
          if (c.done() && c.metrics().containsKey(k)) {
            v.add(c.metrics().get(k));
          }
        }
        stats.put(k, meanStd(v));
      }
      arms.add(new Arm(e.getKey(), done, e.getValue().size() - done, stats));
    }
    return arms;
  }

  static double[] meanStd(List<Double> v) {
    if (v.isEmpty()) {
      return new double[] {Double.NaN, Double.NaN, 0};
    }
    double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    double ss = 0;
    for (double x : v) {
      ss += (x - mean) * (x - mean);
    }
    double sd = v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : 0;
    return new double[] {mean, sd, v.size()};
  }

  /** Writes results.csv, results.md and results.png into the sweep's folder; returns the Markdown. */
  public static String write(Path sweepOut) throws IOException {
    return write(sweepOut, List.of());
  }

  /** As {@link #write(Path)}, with the arms in {@code armOrder} first (see {@link #arms(List, List)}). */
  public static String write(Path sweepOut, List<String> armOrder) throws IOException {
    List<Arm> arms = arms(cells(sweepOut), armOrder);
    StringBuilder csv = new StringBuilder("arm,seeds_done,failed");
    StringBuilder md = new StringBuilder("| arm | seeds | failed |");
    StringBuilder rule = new StringBuilder("|---|--:|--:|");
    for (Map.Entry<String, String> c : COLUMNS.entrySet()) {
      csv.append(',').append(c.getKey()).append("_mean,").append(c.getKey()).append("_std");
      md.append(' ').append(c.getValue()).append(" |");
      rule.append("--:|");
    }
    csv.append('\n');
    md.append('\n').append(rule).append('\n');
    for (Arm a : arms) {
      csv.append('"').append(a.arm()).append("\",").append(a.done()).append(',').append(a.failed());
      md.append("| ").append(a.arm()).append(" | ").append(a.done()).append(" | ").append(a.failed()).append(" |");
      for (String k : COLUMNS.keySet()) {
        double[] s = a.meanStd().get(k);
        csv.append(',').append(Double.isNaN(s[0]) ? "" : fmt(s[0])).append(',').append(Double.isNaN(s[1]) ? "" : fmt(s[1]));
        md.append(' ').append(Double.isNaN(s[0]) ? "–" : k.equals("train_seconds")
            ? String.format("%.0f ± %.0f", s[0], s[1]) : String.format("%.3f ± %.3f", s[0], s[1])).append(" |");
      }
      csv.append('\n');
      md.append('\n');
    }
    Files.createDirectories(sweepOut);
    Files.writeString(sweepOut.resolve("results.csv"), csv.toString());
    Files.writeString(sweepOut.resolve("results.md"), md.toString());
    chart(sweepOut.resolve("results.png"), arms);
    return md.toString();
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.6f", v);
  }

  /** An arm's axis label: {@code algo=perl,permutation.copies=2} reads {@code perl, copies=2}. */
  static String shortLabel(String arm) {
    return arm.replace("algo=", "").replaceAll("(^|,)[a-zA-Z]+\\.", "$1").replace(",", ", ");
  }

  private static void chart(Path png, List<Arm> arms) throws IOException {
    DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
    for (Arm a : arms) {
      for (String k : List.of("multi_image_accuracy", "single_image_accuracy", "positional_bias_gap",
          "permutation_consistency")) {
        double[] s = a.meanStd().get(k);
        if (!Double.isNaN(s[0])) {
          data.add(s[0], s[1], COLUMNS.get(k), shortLabel(a.arm()));
        }
      }
    }
    JFreeChart chart = ChartFactory.createBarChart("Sweep: mean ± sd over seeds", "arm", "value", data,
        PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setRenderer(new StatisticalBarRenderer());
    // Long arm names would be cut to "algo=pe..." on a horizontal axis.
    plot.getDomainAxis().setCategoryLabelPositions(org.jfree.chart.axis.CategoryLabelPositions.UP_45);
    plot.getDomainAxis().setMaximumCategoryLabelLines(2);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, Math.max(700, 140 * arms.size()), 500);
  }

  static Optional<Arm> arm(List<Arm> arms, String name) {
    return arms.stream().filter(a -> a.arm().equals(name)).findFirst();
  }
}
