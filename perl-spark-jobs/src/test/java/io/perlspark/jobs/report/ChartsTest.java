package io.perlspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalReport;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {

  @TempDir
  Path tmp;

  private static BufferedImage assertPng(Path png) throws IOException {
    assertTrue(Files.isRegularFile(png), png + " was not written");
    byte[] head = new byte[8];
    try (var in = Files.newInputStream(png)) {
      assertEquals(8, in.read(head));
    }
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "ImageIO cannot read " + png);
    assertEquals(Charts.WIDTH, img.getWidth());
    assertEquals(Charts.HEIGHT, img.getHeight());
    return img;
  }

  @Test
  void lineChartWritesAPng() throws Exception {
    Map<String, double[][]> series = new LinkedHashMap<>();
    series.put("reward_mean", new double[][] {{0, 1, 2, 3}, {0.2, 0.4, Double.NaN, 0.6}});
    series.put("single point", new double[][] {{1}, {0.5}});
    Path png = tmp.resolve("charts/reward.png");
    Charts.lineChart(png, "reward", "step", "reward", series);
    BufferedImage img = assertPng(png);
    // something other than the white background was drawn
    boolean drawn = false;
    for (int x = 0; x < img.getWidth() && !drawn; x += 7) {
      for (int y = 0; y < img.getHeight() && !drawn; y += 7) {
        drawn = (img.getRGB(x, y) & 0xffffff) != 0xffffff;
      }
    }
    assertTrue(drawn);
  }

  @Test
  void emptyChartsDoNotCrash() throws Exception {
    Charts.lineChart(tmp.resolve("empty.png"), "nothing", "x", "y", Map.of());
    assertPng(tmp.resolve("empty.png"));
    Charts.lineChart(tmp.resolve("no-points.png"), "nothing", "x", "y", Map.of("s", new double[][] {{}, {}}));
    assertPng(tmp.resolve("no-points.png"));
    Charts.accuracyByPosition(tmp.resolve("none.png"), Map.of());
    assertPng(tmp.resolve("none.png"));
    Charts.accuracyByPosition(tmp.resolve("empty-report.png"), Map.of("empty", EvalAggregator.aggregate(List.of())));
    assertPng(tmp.resolve("empty-report.png"));
  }

  @Test
  void badSeriesIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Charts.lineChart(tmp.resolve("bad.png"), "t", "x", "y", Map.of("ragged", new double[][] {{1, 2}, {1}})));
    assertTrue(e.getMessage().contains("'ragged'"), e.getMessage());
  }

  @Test
  void metricsCurvesToleratesBlankLinesMissingKeysAndACutLastLine() throws Exception {
    Path log = tmp.resolve("metrics.jsonl");
    Files.writeString(log, String.join("\n",
        "{\"step\": 1, \"reward_mean\": 0.25, \"accuracy_mean\": 0.2}",
        "",
        "{\"step\": 2, \"reward_mean\": 0.5, \"loss\": NaN}",
        "   ",
        "{\"step\": 3, \"reward_mean\": \"n/a\", \"accuracy_mean\": 0.4, \"val/accuracy\": 0.35}",
        "{\"step\": 4, \"val\": {\"accuracy\": 0.45}, \"reward_mean\": 0.75}",
        "{\"step\": 5, \"reward_me"));
    List<String> keys = List.of("reward_mean", "accuracy_mean", "val/accuracy", "kl_mean", "loss");

    Map<String, double[][]> m = Charts.readMetrics(log, keys);
    assertArrayEquals(new double[][] {{1, 2, 4}, {0.25, 0.5, 0.75}}, m.get("reward_mean"));
    assertArrayEquals(new double[][] {{1, 3}, {0.2, 0.4}}, m.get("accuracy_mean"));
    assertArrayEquals(new double[][] {{3, 4}, {0.35, 0.45}}, m.get("val/accuracy"));
    assertEquals(0, m.get("kl_mean")[0].length);
    assertEquals(0, m.get("loss")[0].length);

    List<Path> written = Charts.metricsCurves(log, tmp.resolve("curves"), keys);
    assertEquals(List.of(tmp.resolve("curves/reward.png"), tmp.resolve("curves/accuracy.png")), written);
    for (Path p : written) {
      assertPng(p);
    }
    assertTrue(Files.notExists(tmp.resolve("curves/kl.png")));
  }

  @Test
  void linesWithoutAStepUseTheirOrdinal() throws Exception {
    Path log = tmp.resolve("m.jsonl");
    Files.writeString(log, "{\"reward_mean\": 1}\n\n{\"reward_mean\": 2}\n");
    assertArrayEquals(new double[][] {{0, 1}, {1, 2}}, Charts.readMetrics(log, List.of("reward_mean")).get("reward_mean"));
  }

  @Test
  void aBrokenLineInTheMiddleIsNamed() throws Exception {
    Path log = tmp.resolve("m.jsonl");
    Files.writeString(log, "{\"step\": 1}\n{oops\n{\"step\": 3}\n");
    IOException e = assertThrows(IOException.class, () -> Charts.readMetrics(log, List.of("reward_mean")));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    Files.writeString(log, "{\"step\": 1}\n[1, 2]\n{\"step\": 3}\n");
    e = assertThrows(IOException.class, () -> Charts.readMetrics(log, List.of("reward_mean")));
    assertTrue(e.getMessage().contains("line 2 is not a JSON object"), e.getMessage());
  }

  @Test
  void metricKeysGroupByTheirStem() {
    assertEquals("reward", Charts.groupOf("reward_mean"));
    assertEquals("reward", Charts.groupOf("train/reward_std"));
    assertEquals("accuracy", Charts.groupOf("val/accuracy"));
    assertEquals("accuracy", Charts.groupOf("accuracy_mean"));
    assertEquals("kl", Charts.groupOf("kl"));
    assertEquals("_odd", Charts.groupOf("_odd"));
  }

  @Test
  void accuracyByPositionForSeveralReports() throws Exception {
    Map<String, EvalReport> reports = new LinkedHashMap<>();
    reports.put("warm start", Reports.biased());
    reports.put("trained", Reports.trained());
    Path png = tmp.resolve("positions.png");
    Charts.accuracyByPosition(png, reports);
    assertPng(png);
    Charts.accuracyByPosition(tmp.resolve("eval.png"), reports, "eval");
    assertPng(tmp.resolve("eval.png"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Charts.accuracyByPosition(tmp.resolve("x.png"), reports, "val"));
    assertTrue(e.getMessage().contains("report 'warm start'"), e.getMessage());
  }
}
