package io.perlspark.jobs.sweep;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.perlspark.jobs.PerlUserException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep: a base run config, overrides for every cell, and one or more grids of axes whose
 * cartesian products are the cells. Axis {@code algo} names the ablation arms (grpo, grpo+perm,
 * grpo+filter, perl); axis {@code seed} sets run.seed; any other axis is a dotted config key.
 *
 * <pre>
 * base: conf/demo.yaml
 * overrides: [stages[0].steps=100]
 * grids:
 *   - {algo: [grpo, grpo+perm, grpo+filter, perl], seed: [1, 2, 3]}
 *   - {algo: [perl], permutation.copies: [0, 2, 3], seed: [1, 2, 3]}
 * </pre>
 */
public record SweepSpec(Path base, List<String> overrides, List<Map<String, List<String>>> grids) {

  /** The overrides of each ablation arm. */
  public static final Map<String, List<String>> ALGOS = Map.of(
      "grpo", List.of("permutation.enabled=false", "filter.online.enabled=false"),
      "grpo+perm", List.of("permutation.enabled=true", "filter.online.enabled=false"),
      "grpo+filter", List.of("permutation.enabled=false", "filter.online.enabled=true"),
      "perl", List.of("permutation.enabled=true", "filter.online.enabled=true"));

  private static final Set<String> KEYS = Set.of("base", "overrides", "grids", "axes");

  public static SweepSpec load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(Files.readString(file));
    } catch (IOException e) {
      throw new PerlUserException(file + ": cannot read the sweep: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new PerlUserException(file + ": a sweep is a mapping with base, overrides and grids");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYS.contains(k)) {
        throw new PerlUserException(file + ": unknown key '" + k + "'; allowed: base, overrides, grids (or axes)");
      }
    }
    if (!root.hasNonNull("base")) {
      throw new PerlUserException(file + ": 'base' (the run config every cell starts from) is missing");
    }
    Path base = file.toAbsolutePath().getParent().resolve(root.get("base").asText()).normalize();
    if (!Files.exists(base)) {
      Path fromCwd = Path.of(root.get("base").asText());
      if (Files.exists(fromCwd)) {
        base = fromCwd;
      } else {
        throw new PerlUserException(file + ": base " + root.get("base").asText() + " does not exist");
      }
    }
    List<String> overrides = new ArrayList<>();
    if (root.has("overrides")) {
      int i = 0;
      for (JsonNode o : root.get("overrides")) {
        if (!o.isValueNode()) {
          throw new PerlUserException(file + ": overrides[" + i + "] must be one key=value string; quote it when the "
              + "value holds ': ' (e.g. \"eval.splits=[{path: data/eval}]\")");
        }
        overrides.add(o.asText());
        i++;
      }
    }
    List<Map<String, List<String>>> grids = new ArrayList<>();
    if (root.has("axes")) {
      grids.add(axes(file, root.get("axes"), "axes"));
    }
    if (root.has("grids")) {
      int i = 0;
      for (JsonNode g : root.get("grids")) {
        grids.add(axes(file, g, "grids[" + i++ + "]"));
      }
    }
    if (grids.isEmpty()) {
      throw new PerlUserException(file + ": no grids (give grids: [{axis: [values]}] or axes: {axis: [values]})");
    }
    return new SweepSpec(base, overrides, grids);
  }

  private static Map<String, List<String>> axes(Path file, JsonNode node, String where) {
    if (!node.isObject() || node.isEmpty()) {
      throw new PerlUserException(file + ": " + where + " must map axis names to lists of values");
    }
    Map<String, List<String>> axes = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      List<String> values = new ArrayList<>();
      if (e.getValue().isArray()) {
        e.getValue().forEach(v -> values.add(v.asText()));
      } else {
        values.add(e.getValue().asText());
      }
      if (values.isEmpty()) {
        throw new PerlUserException(file + ": " + where + "." + e.getKey() + " has no values");
      }
      if (e.getKey().equals("algo")) {
        for (String v : values) {
          if (!ALGOS.containsKey(v)) {
            throw new PerlUserException(file + ": " + where + ".algo: unknown arm '" + v + "'; arms: " + ALGOS.keySet());
          }
        }
      }
      axes.put(e.getKey(), values);
    }
    return axes;
  }

  /** Every cell of every grid, in order, without duplicates. */
  public List<Cell> cells() {
    Map<String, Cell> out = new LinkedHashMap<>();
    for (Map<String, List<String>> grid : grids) {
      List<Map<String, String>> combos = new ArrayList<>();
      combos.add(new LinkedHashMap<>());
      for (Map.Entry<String, List<String>> axis : grid.entrySet()) {
        List<Map<String, String>> next = new ArrayList<>();
        for (Map<String, String> c : combos) {
          for (String v : axis.getValue()) {
            Map<String, String> m = new LinkedHashMap<>(c);
            m.put(axis.getKey(), v);
            next.add(m);
          }
        }
        combos = next;
      }
      for (Map<String, String> c : combos) {
        Cell cell = Cell.of(c);
        out.putIfAbsent(cell.id(), cell);
      }
    }
    return new ArrayList<>(out.values());
  }
}
