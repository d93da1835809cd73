package io.perlspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.perlspark.common.eval.EvalAggregator;
import io.perlspark.common.eval.EvalReport;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalReportsTest {

  @TempDir
  Path tmp;

  @Test
  void writesJsonThatReadsBackAndMarkdownTables() throws Exception {
    EvalReport report = Reports.biased();
    Path dir = tmp.resolve("out/eval");
    List<Path> files = EvalReports.write(report, dir, "warm start");
    assertEquals(List.of(dir.resolve("eval.json"), dir.resolve("eval.md")), files);
    try (var listing = Files.list(dir)) {
      assertEquals(2, listing.count(), "no temporary files left behind");
    }

    assertEquals(report, EvalReports.read(dir.resolve("eval.json")));
    assertEquals(report, EvalReports.read(dir));
    JsonNode json = new ObjectMapper().readTree(dir.resolve("eval.json").toFile());
    assertEquals(8, json.get("records").asLong());
    assertEquals(1.0 / 3, json.at("/splits/eval/metrics/accuracy").asDouble(), 1e-12);
    assertEquals(1.0, json.at("/overall/positional/shareNamingImage1").asDouble(), 1e-12);
    assertTrue(json.at("/overall/positional/byPosition").isArray());

    String md = Files.readString(dir.resolve("eval.md"));
    assertTrue(md.startsWith("# Evaluation: warm start\n"), md);
    for (String section : List.of("## Overall", "## Per family", "## Accuracy by answer position",
        "## Permutation consistency", "## Split eval", "## Split eval_single", "### Accuracy by answer position")) {
      assertTrue(md.contains(section), "missing " + section + " in\n" + md);
    }
    assertTrue(md.contains("| multi-image (≥ 2 images) | 3 | 0.333 | 0.333 |"), md);
    assertTrue(md.contains("| 2 | 1 | 0.000 |"), md);
    assertTrue(md.contains("answers naming image 1: 1.000 (uniform guessing: 0.333)"), md);
    assertTrue(md.contains("positional-bias gap: +1.000"), md);
    assertTrue(md.contains("| all | 3 | 0.000 | 0.000 |"), md); // consistency table
  }

  @Test
  void emptyReportHasNullsNotNaN() throws Exception {
    EvalReport empty = EvalAggregator.aggregate(List.of());
    String json = EvalReports.toJson(empty);
    assertFalse(json.contains("NaN"), json);
    assertTrue(json.contains("\"accuracy\" : null"), json);
    EvalReports.write(empty, tmp, null);
    assertEquals(empty, EvalReports.read(tmp));
    String md = Files.readString(tmp.resolve("eval.md"));
    assertTrue(md.startsWith("# Evaluation\n"), md);
    assertTrue(md.contains("No sample has an image as its answer."), md);
    assertTrue(md.contains("No sample was evaluated under more than one image order."), md);
    assertTrue(md.contains("| all | 0 | – | – | – | – | – |"), md);
  }

  @Test
  void readingAMissingReportSaysWhatWasExpected() {
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> EvalReports.read(tmp.resolve("nope")));
    assertTrue(e.getMessage().contains("eval.json"), e.getMessage());
  }

  @Test
  void overwritesAnEarlierReport() throws Exception {
    EvalReports.write(Reports.biased(), tmp, "first");
    EvalReports.write(Reports.trained(), tmp, "second");
    assertEquals(Reports.trained(), EvalReports.read(tmp));
    assertTrue(Files.readString(tmp.resolve("eval.md")).startsWith("# Evaluation: second"));
  }
}
