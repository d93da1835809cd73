package io.perlspark.jobs.report;

import java.util.List;
import java.util.Locale;

/** Number and table formatting shared by the Markdown and console reports. */
final class Format {
  private Format() {}

  /** What an undefined figure (no data) prints as. */
  static final String NONE = "–";

  static String rate(Double v) {
    return v == null ? NONE : String.format(Locale.ROOT, "%.3f", v);
  }

  /** A difference of rates, always signed so that the direction of a bias reads at a glance. */
  static String signed(Double v) {
    return v == null ? NONE : String.format(Locale.ROOT, "%+.3f", v);
  }

  static String mean(Double v) {
    return v == null ? NONE : String.format(Locale.ROOT, "%.1f", v);
  }

  static String count(long v) {
    return Long.toString(v);
  }

  /** A Markdown table; cells must not contain '|' (ours never do; escaped anyway). */
  static String markdownTable(List<String> header, List<List<String>> rows) {
    StringBuilder sb = new StringBuilder();
    row(sb, header);
    sb.append('|');
    for (int i = 0; i < header.size(); i++) {
      sb.append(i == 0 ? "---|" : "--:|");
    }
    sb.append('\n');
    for (List<String> r : rows) {
      row(sb, r);
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, List<String> cells) {
    sb.append('|');
    for (String c : cells) {
      sb.append(' ').append(c.replace("|", "\\|")).append(" |");
    }
    sb.append('\n');
  }

  /** A fixed-width table for a terminal: first column left-aligned, the others right-aligned. */
  static String consoleTable(List<String> header, List<List<String>> rows) {
    int[] widths = new int[header.size()];
    for (int i = 0; i < header.size(); i++) {
      widths[i] = header.get(i).length();
      for (List<String> r : rows) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, widths);
    int total = 0;
    for (int w : widths) {
      total += w;
    }
    sb.append("-".repeat(total + 2 * (widths.length - 1))).append('\n');
    for (List<String> r : rows) {
      line(sb, r, widths);
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, List<String> cells, int[] widths) {
    StringBuilder l = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      String pad = " ".repeat(widths[i] - c.length());
      l.append(i == 0 ? "" : "  ").append(i == 0 ? c + pad : pad + c);
    }
    sb.append(l.toString().stripTrailing()).append('\n');
  }
}
