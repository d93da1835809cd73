package io.perlspark.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An append-only JSON-lines file (metrics.jsonl, rollouts.jsonl), flushed after each line so that a
 * killed run leaves every finished step on disk. On resume, lines past the resumed step are dropped
 * so the file reads as one uninterrupted run.
 */
public final class MetricsLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;

  private MetricsLog(BufferedWriter out) {
    this.out = out;
  }

  /** Opens {@code file}, keeping only existing lines whose {@code step} is at most {@code keepUpToStep}. */
  public static MetricsLog open(Path file, long keepUpToStep) {
    try {
      Files.createDirectories(file.getParent());
      List<String> kept = new ArrayList<>();
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (line.isBlank()) {
            continue;
          }
          try {
            JsonNode n = JSON.readTree(line);
            if (n.has("step") && n.get("step").asLong() <= keepUpToStep) {
              kept.add(line);
            }
          } catch (IOException e) {
            // a line cut by a kill mid-write: drop it
          }
        }
      }
      Files.write(file, kept, StandardCharsets.UTF_8);
      return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file, e);
    }
  }

  public void write(Map<String, ?> record) {
    try {
      out.write(JSON.writeValueAsString(record));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
