package io.perlspark.jobs.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The cluster submit scripts' shared command-line handling (deploy/lib/submit-args.sh) and the
 * dry runs of the two we cannot run here (Kubernetes, YARN): what they would submit.
 */
class SubmitScriptsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize(); // Surefire runs in the module folder

  record Run(int rc, String out, String err) {}

  static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "script did not finish");
    return new Run(p.exitValue(), out, err);
  }

  @ParameterizedTest
  @ValueSource(strings = {"standalone", "k8s", "yarn"})
  void helpPrintsTheHeaderAndAMissingSeparatorIsRefused(String kind) throws Exception {
    Run help = run(Map.of(), "deploy/" + kind + "/submit.sh", "--help");
    assertEquals(0, help.rc(), help.err());
    assertTrue(help.out().startsWith("Submits a perl subcommand to "), help.out());
    assertTrue(!help.out().contains("set -euo"), "the help stops before the script's code");

    Run bad = run(Map.of(), "deploy/" + kind + "/submit.sh", "--dry-run", "train");
    assertEquals(2, bad.rc());
    assertTrue(bad.err().contains("missing '--' between the options and the perl subcommand"), bad.err());
  }

  @Test
  void kubernetesDryRunShowsTheSubmission() throws Exception {
    Run r = run(Map.of("K8S_MASTER", "k8s://https://api.example:6443", "PERL_IMAGE", "reg.example/perl-spark:1"),
        "deploy/k8s/submit.sh", "--dry-run", "--executors", "3", "--conf", "spark.x=1", "--", "train", "--config",
        "/data/run.yaml", "--", "not-an-option");
    assertEquals(0, r.rc(), r.err());
    assertTrue(r.out().contains("spark.executor.instances 3"), r.out());
    assertTrue(r.out().contains("spark.default.parallelism 3"), r.out());
    assertTrue(r.out().contains("reg.example/perl-spark:1"), r.out());
    // spark-submit options stay before --; everything after the first -- (a second -- included) is the app's
    assertTrue(r.out().contains("--conf spark.x=1 -- train --config /data/run.yaml -- not-an-option"), r.out());
  }

  @Test
  void yarnDryRunShowsTheSubmission() throws Exception {
    Run r = run(Map.of("HADOOP_CONF_DIR", ROOT.toString()), "deploy/yarn/submit.sh", "--dry-run", "--executors", "4",
        "--", "eval", "--config", "run.yaml");
    assertEquals(0, r.rc(), r.err());
    assertTrue(r.out().contains("spark.executor.instances 4"), r.out());
    assertTrue(r.out().contains("-- eval --config run.yaml"), r.out());
  }
}
