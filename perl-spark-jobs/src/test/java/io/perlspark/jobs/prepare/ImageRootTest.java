package io.perlspark.jobs.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageRootTest {
  static final String ROOT = Path.of("/data/imgs é #1").toUri().toString();

  static Path resolve(String relative) {
    Optional<org.apache.hadoop.fs.Path> p = ImageRoot.resolveInside(ROOT, relative);
    assertTrue(p.isPresent(), relative);
    return Path.of(p.get().toUri());
  }

  @Test
  void everyNameResolvesToExactlyThatFile() {
    for (String name : PrepareFrontDoorTest.ODD_NAMES) {
      assertEquals(Path.of("/data/imgs é #1", name), resolve(name), name);
    }
    assertEquals(Path.of("/data/imgs é #1/b.png"), resolve("a/../b.png"));
    assertEquals(Path.of("/data/imgs é #1/a/b.png"), resolve("./a//b.png"));
  }

  @Test
  void pathsThatLeaveTheRootAreRefused() {
    for (String bad : new String[] {"../x.png", "a/../../x.png", "/etc/passwd", "file:///etc/passwd", "a\\b.png", "..", "."}) {
      assertTrue(ImageRoot.resolveInside(ROOT, bad).isEmpty(), bad);
    }
  }

  @Test
  void aRemoteRootKeepsItsSchemeAndAuthority() {
    org.apache.hadoop.fs.Path p = ImageRoot.resolveInside("hdfs://nn:8020/ds/imgs", "猫 #1.png").orElseThrow();
    assertEquals("hdfs", p.toUri().getScheme());
    assertEquals("nn:8020", p.toUri().getAuthority());
    assertEquals("/ds/imgs/猫 #1.png", p.toUri().getPath());
  }
}
