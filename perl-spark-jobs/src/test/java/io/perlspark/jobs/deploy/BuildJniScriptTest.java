package io.perlspark.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * deploy/gpu/build-jni.sh's input checks and printed plan/env, through its plain bash test
 * (deploy/gpu/tests/build-jni-test.sh: fake libtorch folders and a fake Python, no compiler).
 */
class BuildJniScriptTest {
  @Test
  void theScriptTestPasses() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize(); // Surefire runs in the module folder
    Process p = new ProcessBuilder("bash", "deploy/gpu/tests/build-jni-test.sh")
        .directory(root.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the script test did not finish");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("all build-jni cases passed"), out);
  }
}
