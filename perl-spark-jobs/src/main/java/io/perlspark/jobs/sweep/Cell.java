package io.perlspark.jobs.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One sweep cell: its axis values, the config overrides they mean, a folder-safe id, and the key
 * of its arm (the id without the seed) that groups seeds in the results table.
 */
public record Cell(String id, String arm, Map<String, String> values, List<String> overrides) {

  static Cell of(Map<String, String> values) {
    Map<String, String> sorted = new TreeMap<>(values);
    List<String> overrides = new ArrayList<>();
    StringBuilder id = new StringBuilder();
    StringBuilder arm = new StringBuilder();
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      String part = e.getKey() + "=" + e.getValue();
      id.append(id.length() == 0 ? "" : ",").append(part);
      if (!e.getKey().equals("seed")) {
        arm.append(arm.length() == 0 ? "" : ",").append(part);
      }
      switch (e.getKey()) {
        case "algo" -> overrides.addAll(SweepSpec.ALGOS.get(e.getValue()));
        case "seed" -> overrides.add("run.seed=" + e.getValue());
        default -> overrides.add(e.getKey() + "=" + e.getValue());
      }
    }
    return new Cell(id.toString(), arm.length() == 0 ? "all" : arm.toString(), sorted, overrides);
  }

  /** The cell's folder name: its id with characters that folders dislike replaced. */
  public String folder() {
    return id.replaceAll("[^A-Za-z0-9=,.+_-]", "_");
  }
}
