package io.perlspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** bin/perl (conf/jvm.options) and the tests (pom's spark.jvm.flags) must give Spark the same flags. */
class JvmOptionsTest {
  @Test
  void launcherAndSurefireUseTheSameSparkFlags() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Set<String> launcher = Files.readAllLines(root.resolve("conf/jvm.options")).stream()
        .map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .filter(l -> !l.startsWith("-Dai.djl") && !l.startsWith("-Djava.awt"))
        .collect(Collectors.toCollection(LinkedHashSet::new));
    String pom = Files.readString(root.resolve("pom.xml"));
    Matcher m = Pattern.compile("<spark.jvm.flags>(.*?)</spark.jvm.flags>", Pattern.DOTALL).matcher(pom);
    m.find();
    Set<String> surefire = new LinkedHashSet<>(Arrays.asList(m.group(1).trim().split("\\s+")));
    assertEquals(surefire, launcher);
  }
}
