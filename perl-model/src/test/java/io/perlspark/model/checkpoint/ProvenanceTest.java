package io.perlspark.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceTest {
  @Test
  void constructionRedactsConfigAndMapEntries() {
    Provenance p =
        new Provenance(
            "auth:\n  apiToken: PROV_SECRET\nmodel: tiny\n", 1,
            Map.of("https://u:DATA_PW@host/ds", "fp"), null, null, Map.of());
    assertFalse(p.configText().contains("PROV_SECRET"));
    assertTrue(p.configText().contains("model: tiny"));
    assertFalse(p.datasetFingerprints().keySet().iterator().next().contains("DATA_PW"));
    assertEquals("unknown", p.codeVersion());
    assertNotNull(p.createdAt());
    assertEquals(p, new Provenance(p.configText(), 1, p.datasetFingerprints(), null, p.createdAt(), Map.of()));
  }

  @Test
  void ofFillsEnvironmentAndCodeVersion() {
    Provenance p = Provenance.of("a: 1\n", 9, Map.of());
    assertEquals("17", p.environment().get("java.version").split("\\.")[0]);
    assertEquals("0.36.0", p.environment().get("djl.version"));
    assertFalse(p.codeVersion().isBlank());
  }

  @Test
  void gitCommitIsReadFromHeadWithoutRunningGit(@TempDir Path dir) throws IOException {
    Path git = dir.resolve(".git");
    Files.createDirectories(git.resolve("refs/heads"));
    Files.writeString(git.resolve("HEAD"), "ref: refs/heads/main\n");
    Files.writeString(git.resolve("refs/heads/main"), "abc123def\n");
    Path nested = Files.createDirectories(dir.resolve("a/b"));
    assertEquals("abc123def", Provenance.gitCommit(nested));
    Files.delete(git.resolve("refs/heads/main"));
    Files.writeString(git.resolve("packed-refs"), "# pack-refs\nfeed00 refs/heads/main\n");
    assertEquals("feed00", Provenance.gitCommit(nested));
  }
}
