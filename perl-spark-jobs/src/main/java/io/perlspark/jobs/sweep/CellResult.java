package io.perlspark.jobs.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * What a finished (or failed) cell leaves in its folder as {@code cell.json}. A cell counts as done
 * only when this file says so; it is written last and atomically, so a sweep killed mid-cell redoes
 * that cell (whose training resumes from its own checkpoints).
 */
public record CellResult(String id, String arm, Map<String, String> values, String status, String error,
    double seconds, Map<String, Double> metrics) {

  public static final String FILE = "cell.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public boolean done() {
    return "done".equals(status);
  }

  public void write(Path cellDir) throws IOException {
    Files.createDirectories(cellDir);
    Path tmp = cellDir.resolve(FILE + ".tmp");
    JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
    Files.move(tmp, cellDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static Optional<CellResult> read(Path cellDir) {
    Path f = cellDir.resolve(FILE);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(f.toFile(), CellResult.class));
    } catch (IOException e) {
      return Optional.empty(); // unreadable: treat as not done, run it again
    }
  }
}
