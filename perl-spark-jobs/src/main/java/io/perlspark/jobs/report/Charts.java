package io.perlspark.jobs.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.eval.PositionalBias;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts of training curves and eval reports (JFreeChart, rendered off-screen). */
public final class Charts {
  private Charts() {}

  static {
    // A driver on a cluster node has no display; rendering to an image needs none. Respect an explicit choice.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  public static final int WIDTH = 900;
  public static final int HEIGHT = 540;
  private static final int SPARSE_POINTS = 25;

  /** The field of a metrics line that holds the x value; lines without it use their ordinal. */
  public static final String STEP_KEY = "step";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // a NaN loss must not make the whole log unreadable
      .build();

  /**
   * A line chart of several series.
   *
   * @param series name → {@code {x[], y[]}} of equal length; non-finite points are left out; an
   *     empty map gives an empty chart
   * @throws IllegalArgumentException naming the series when it is not two arrays of equal length
   */
  public static void lineChart(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series)
      throws IOException {
    lineChart(png, title, xLabel, yLabel, series, false);
  }

  private static void lineChart(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series,
      boolean integerX) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Map.Entry<String, double[][]> e : series.entrySet()) {
      double[][] xy = e.getValue();
      if (xy == null || xy.length != 2 || xy[0] == null || xy[1] == null || xy[0].length != xy[1].length) {
        throw new IllegalArgumentException("series '" + e.getKey() + "' must be {x[], y[]} of equal length");
      }
      XYSeries s = new XYSeries(e.getKey(), true, true);
      for (int i = 0; i < xy[0].length; i++) {
        if (Double.isFinite(xy[0][i]) && Double.isFinite(xy[1][i])) {
          s.add(xy[0][i], xy[1][i], false);
        }
      }
      data.addSeries(s);
    }
    JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL,
        true, false, false);
    XYPlot plot = chart.getXYPlot();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesStroke(i, new BasicStroke(2f));
      // sparse series (one point, validation every few steps) read better with their points marked
      renderer.setSeriesShapesVisible(i, data.getItemCount(i) <= SPARSE_POINTS);
    }
    plot.setRenderer(renderer);
    if (integerX) {
      plot.getDomainAxis().setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    }
    ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    styled(chart);
    save(png, chart);
  }

  /**
   * Training curves from {@code metrics.jsonl} (one JSON object per line, written by
   * {@code perl train}): one PNG per group of keys, the group being the key's last path segment
   * up to its first underscore ({@code reward_mean}, {@code train/reward_std} → {@code reward};
   * {@code accuracy_mean}, {@code val/accuracy} → {@code accuracy}). See
   * {@link #metricsCurves(Path, Path, Map)}.
   */
  public static List<Path> metricsCurves(Path metricsJsonl, Path outDir, List<String> keys) throws IOException {
    Map<String, List<String>> groups = new LinkedHashMap<>();
    for (String k : keys) {
      groups.computeIfAbsent(groupOf(k), g -> new ArrayList<>()).add(k);
    }
    return metricsCurves(metricsJsonl, outDir, groups);
  }

  /**
   * One PNG {@code <group>.png} per group, x = {@value #STEP_KEY}, one line per key. Blank lines,
   * lines without a key and non-numeric values are skipped; a group with no point at all writes no
   * file.
   *
   * @return the files written, in the groups' order
   */
  public static List<Path> metricsCurves(Path metricsJsonl, Path outDir, Map<String, List<String>> groups)
      throws IOException {
    List<String> keys = new ArrayList<>();
    groups.values().forEach(keys::addAll);
    Map<String, double[][]> curves = readMetrics(metricsJsonl, keys);
    List<Path> written = new ArrayList<>();
    for (Map.Entry<String, List<String>> g : groups.entrySet()) {
      Map<String, double[][]> series = new LinkedHashMap<>();
      for (String k : g.getValue()) {
        double[][] xy = curves.get(k);
        if (xy != null && xy[0].length > 0) {
          series.put(k, xy);
        }
      }
      if (series.isEmpty()) {
        continue;
      }
      Path png = outDir.resolve(fileName(g.getKey()) + ".png");
      lineChart(png, g.getKey() + " during training", STEP_KEY, g.getKey(), series, true);
      written.add(png);
    }
    return written;
  }

  /**
   * The numeric values of {@code keys} in a metrics log: key → {@code {steps[], values[]}} (every key
   * present, possibly with no points). A key is a field name; a name with {@code /} that is not a
   * field is also looked up as a nested path ({@code val/accuracy} → {@code {"val":{"accuracy":…}}}).
   *
   * @throws IOException naming the file and line when a line other than the last is not a JSON
   *     object (the last may be cut short by a run that was killed while writing)
   */
  public static Map<String, double[][]> readMetrics(Path metricsJsonl, List<String> keys) throws IOException {
    List<String> lines = Files.readAllLines(metricsJsonl, StandardCharsets.UTF_8);
    int lastContent = lines.size() - 1;
    while (lastContent >= 0 && lines.get(lastContent).isBlank()) {
      lastContent--;
    }
    Map<String, List<double[]>> points = new LinkedHashMap<>();
    keys.forEach(k -> points.put(k, new ArrayList<>()));
    int ordinal = 0;
    for (int i = 0; i <= lastContent; i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      JsonNode obj;
      try {
        obj = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        if (i == lastContent) {
          break;
        }
        throw new IOException(metricsJsonl + " line " + (i + 1) + " is not valid JSON: " + e.getOriginalMessage(), e);
      }
      if (obj == null || !obj.isObject()) {
        if (i == lastContent) {
          break;
        }
        throw new IOException(metricsJsonl + " line " + (i + 1) + " is not a JSON object");
      }
      JsonNode stepNode = obj.get(STEP_KEY);
      double x = stepNode != null && stepNode.isNumber() ? stepNode.asDouble() : ordinal;
      ordinal++;
      for (String k : keys) {
        JsonNode v = field(obj, k);
        if (v != null && v.isNumber() && Double.isFinite(v.asDouble())) {
          points.get(k).add(new double[] {x, v.asDouble()});
        }
      }
    }
    Map<String, double[][]> out = new LinkedHashMap<>();
    points.forEach((k, pts) -> {
      double[][] xy = new double[2][pts.size()];
      for (int i = 0; i < pts.size(); i++) {
        xy[0][i] = pts.get(i)[0];
        xy[1][i] = pts.get(i)[1];
      }
      out.put(k, xy);
    });
    return out;
  }

  /** Accuracy by answer position of all splits pooled, one bar per report in each position. */
  public static void accuracyByPosition(Path png, Map<String, EvalReport> reports) throws IOException {
    accuracyByPosition(png, reports, null);
  }

  /**
   * A grouped bar chart: per answer position, one bar per report (in the map's order). A position
   * without samples in a report has no bar.
   *
   * @param split the split to chart, null for all splits pooled
   * @throws IllegalArgumentException naming the report when it lacks the split
   */
  public static void accuracyByPosition(Path png, Map<String, EvalReport> reports, String split) throws IOException {
    Objects.requireNonNull(reports, "reports");
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    Map<String, PositionalBias> biases = new LinkedHashMap<>();
    int maxPosition = 0;
    for (Map.Entry<String, EvalReport> e : reports.entrySet()) {
      PositionalBias b;
      try {
        b = e.getValue().scope(split).positional();
      } catch (IllegalArgumentException missing) {
        throw new IllegalArgumentException("report '" + e.getKey() + "': " + missing.getMessage(), missing);
      }
      biases.put(e.getKey(), b);
      maxPosition = Math.max(maxPosition, b.byPosition().size());
    }
    for (int p = 1; p <= maxPosition; p++) {
      for (Map.Entry<String, PositionalBias> e : biases.entrySet()) {
        data.addValue(e.getValue().accuracyAt(p), e.getKey(), "image " + p);
      }
    }
    JFreeChart chart = ChartFactory.createBarChart(
        "Accuracy by answer position" + (split == null ? "" : " (" + split + ")"),
        "position of the answer image", "accuracy", data, PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.getRangeAxis().setRange(0.0, 1.0);
    styled(chart);
    save(png, chart);
  }

  /** The group of a metric key: last {@code /} segment up to its first {@code _}. */
  static String groupOf(String key) {
    String last = key.substring(key.lastIndexOf('/') + 1);
    int underscore = last.indexOf('_');
    String g = underscore > 0 ? last.substring(0, underscore) : last;
    return g.isEmpty() ? key : g;
  }

  private static JsonNode field(JsonNode obj, String key) {
    JsonNode v = obj.get(key);
    if (v == null && key.indexOf('/') > 0) {
      JsonNode nested = obj.at("/" + key);
      v = nested.isMissingNode() ? null : nested;
    }
    return v;
  }

  private static String fileName(String group) {
    String s = group.replaceAll("[^A-Za-z0-9_.-]", "_");
    return s.isEmpty() || s.startsWith(".") ? "metric" + s : s;
  }

  private static void styled(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getPlot().setBackgroundPaint(Color.WHITE);
    // the default grid lines are white: keep them visible on the white plot
    if (chart.getPlot() instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
      xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
    } else if (chart.getPlot() instanceof CategoryPlot cat) {
      cat.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
  }

  private static void save(Path png, JFreeChart chart) throws IOException {
    Path parent = png.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }
}
