package io.perlspark.jobs.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.perlspark.common.eval.ConsistencyStats;
import io.perlspark.common.eval.EvalReport;
import io.perlspark.common.eval.GroupMetrics;
import io.perlspark.common.eval.PositionAccuracy;
import io.perlspark.common.eval.PositionalBias;
import io.perlspark.common.eval.ScopeReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Writes an {@link EvalReport} as {@code eval.json} (the full report) and {@code eval.md} (tables for people). */
public final class EvalReports {
  private EvalReports() {}

  public static final String JSON_FILE = "eval.json";
  public static final String MARKDOWN_FILE = "eval.md";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      // a report written by a later version with an extra field still loads for comparisons
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * Writes {@code eval.json} and {@code eval.md} into {@code dir} (created if needed), each
   * atomically where the file system allows, so a reader never sees half a report.
   *
   * @param title what was evaluated, e.g. the checkpoint or run name; shown in the Markdown heading
   * @return the two files written, JSON first
   */
  public static List<Path> write(EvalReport report, Path dir, String title) throws IOException {
    Objects.requireNonNull(report, "report");
    Files.createDirectories(dir);
    Path json = dir.resolve(JSON_FILE);
    Path md = dir.resolve(MARKDOWN_FILE);
    writeAtomically(json, toJson(report));
    writeAtomically(md, toMarkdown(report, title));
    return List.of(json, md);
  }

  /** The report as pretty-printed JSON; undefined rates are {@code null}, never NaN. */
  public static String toJson(EvalReport report) throws IOException {
    return JSON.writeValueAsString(report) + "\n";
  }

  /** Reads a report written by {@link #write} (the {@code eval.json} file, or a folder holding it). */
  public static EvalReport read(Path jsonOrDir) throws IOException {
    Path file = Files.isDirectory(jsonOrDir) ? jsonOrDir.resolve(JSON_FILE) : jsonOrDir;
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no eval report (expected " + JSON_FILE + " written by perl eval)");
    }
    try {
      return JSON.readValue(file.toFile(), EvalReport.class);
    } catch (IOException e) {
      throw new IOException("cannot read eval report " + file + ": " + e.getMessage(), e);
    }
  }

  /** The Markdown report: overall figures, per family, accuracy by answer position, consistency; then per split. */
  public static String toMarkdown(EvalReport report, String title) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Evaluation").append(title == null || title.isBlank() ? "" : ": " + title).append("\n\n");
    ScopeReport all = report.overall();
    sb.append(report.records()).append(" responses, ").append(all.metrics().samples()).append(" samples in their original order");
    sb.append(report.splits().isEmpty() ? "" : "; splits: " + String.join(", ", report.splits().keySet()));
    sb.append(".\nAccuracy, format and length are on the original image order unless a column says otherwise.\n\n");

    List<List<String>> rows = new ArrayList<>();
    rows.add(metricsRow("all", all.metrics(), all.consistency()));
    rows.add(metricsRow("multi-image (≥ 2 images)", all.multiImage(), null));
    rows.add(metricsRow("single-image", all.singleImage(), null));
    if (report.splits().size() > 1) {
      report.splits().forEach((name, s) -> rows.add(metricsRow("split " + name, s.metrics(), s.consistency())));
    }
    sb.append("## Overall\n\n").append(Format.markdownTable(METRICS_HEADER, rows)).append('\n');
    scopeSections(sb, all, "##");
    if (report.splits().size() > 1) {
      for (Map.Entry<String, ScopeReport> e : report.splits().entrySet()) {
        sb.append("## Split ").append(e.getKey()).append("\n\n");
        List<List<String>> splitRows = List.of(
            metricsRow("all", e.getValue().metrics(), e.getValue().consistency()),
            metricsRow("multi-image (≥ 2 images)", e.getValue().multiImage(), null),
            metricsRow("single-image", e.getValue().singleImage(), null));
        sb.append(Format.markdownTable(METRICS_HEADER, splitRows)).append('\n');
        scopeSections(sb, e.getValue(), "###");
      }
    }
    return sb.toString();
  }

  private static final List<String> METRICS_HEADER = List.of("scope", "samples", "accuracy",
      "accuracy (all orders)", "format rate", "mean length", "consistency");

  private static List<String> metricsRow(String name, GroupMetrics m, ConsistencyStats c) {
    return List.of(name, Format.count(m.samples()), Format.rate(m.accuracy()), Format.rate(m.accuracyAllPermutations()),
        Format.rate(m.formatRate()), Format.mean(m.meanResponseLength()), c == null ? Format.NONE : Format.rate(c.consistency()));
  }

  private static void scopeSections(StringBuilder sb, ScopeReport scope, String level) {
    if (!scope.families().isEmpty()) {
      List<List<String>> rows = new ArrayList<>();
      scope.families().forEach((f, m) ->
          rows.add(metricsRow(f.isEmpty() ? "(none)" : f, m, scope.familyConsistency().get(f))));
      sb.append(level).append(" Per family\n\n").append(Format.markdownTable(
          List.of("family", "samples", "accuracy", "accuracy (all orders)", "format rate", "mean length", "consistency"),
          rows)).append('\n');
    }

    PositionalBias bias = scope.positional();
    sb.append(level).append(" Accuracy by answer position\n\n");
    if (bias.samples() == 0) {
      sb.append("No sample has an image as its answer.\n\n");
    } else {
      List<List<String>> rows = new ArrayList<>();
      for (PositionAccuracy p : bias.byPosition()) {
        rows.add(List.of(Integer.toString(p.position()), Format.count(p.samples()), Format.rate(p.accuracy())));
      }
      sb.append(Format.markdownTable(List.of("answer position", "samples", "accuracy"), rows)).append('\n');
      sb.append("- answers naming image 1: ").append(Format.rate(bias.shareNamingImage1()))
          .append(" (uniform guessing: ").append(Format.rate(bias.chanceShareNamingImage1())).append(")\n");
      sb.append("- accuracy with the answer at position 1: ").append(Format.rate(bias.accuracyAtPosition1()))
          .append("; at positions ≥ 2: ").append(Format.rate(bias.accuracyAtOtherPositions())).append('\n');
      sb.append("- positional-bias gap: ").append(Format.signed(bias.biasGap()))
          .append(" (against the unweighted mean of positions ≥ 2: ").append(Format.signed(bias.biasGapPositionMean()))
          .append(")\n\n");
    }

    sb.append(level).append(" Permutation consistency\n\n");
    if (scope.consistency().samples() == 0) {
      sb.append("No sample was evaluated under more than one image order.\n\n");
    } else {
      List<List<String>> rows = new ArrayList<>();
      rows.add(consistencyRow("all", scope.consistency()));
      scope.familyConsistency().forEach((f, c) -> rows.add(consistencyRow(f.isEmpty() ? "(none)" : f, c)));
      sb.append(Format.markdownTable(List.of("scope", "permuted samples", "consistent", "consistent and correct"), rows))
          .append('\n');
      sb.append("A sample is consistent when its answers under every order name the same images (mapped back to the "
          + "original order) or, for order-free answers, are the same answer.\n\n");
    }
  }

  private static List<String> consistencyRow(String name, ConsistencyStats c) {
    return List.of(name, Format.count(c.samples()), Format.rate(c.consistency()), Format.rate(c.consistentAndCorrectShare()));
  }

  private static void writeAtomically(Path target, String text) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
