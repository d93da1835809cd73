package io.perlspark.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Spark jobs see model families only through perl-model's seam ({@code
 * io.perlspark.model.family.*}: ModelFamilies, ModelRecipe, PromptProcessor) and the generic
 * policy types: no source of perl-spark-jobs names a family's package or a concrete model class,
 * so adding a family never touches the jobs.
 */
class FamilyBoundaryTest {
  private static final Path MAIN = Path.of("src/main/java");

  /**
   * A family's own package, {@code io.perlspark.model.family.<name>.}: a lower-case segment after
   * {@code family.} (the seam's types are capitalised: {@code family.ModelRecipe}).
   */
  private static final Pattern FAMILY_PACKAGE =
      Pattern.compile("io\\.perlspark\\.model\\.family\\.[a-z][a-z0-9_]*\\.");

  /** Classes that belong to one family (the built-in one's, and Qwen's by name). */
  private static final Pattern CONCRETE =
      Pattern.compile("\\b(TinyVlm\\w*|ModelSpec|ImagePixels|BuiltinFamily|BuiltinRecipe"
          + "|BuiltinPromptProcessor|Qwen\\w*)\\b");

  @Test
  void noJobSourceNamesAConcreteModelFamily() throws IOException {
    List<String> offences = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(MAIN)) {
      sources = walk.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertTrue(sources.size() > 50, "expected the jobs' sources under " + MAIN.toAbsolutePath());
    for (Path source : sources) {
      List<String> lines = Files.readAllLines(source);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        String code = line.trim();
        if (code.startsWith("//") || code.startsWith("*") || code.startsWith("/*")) {
          continue; // prose may name a family ("Qwen2.5-VL"); code may not
        }
        if (FAMILY_PACKAGE.matcher(line).find() || CONCRETE.matcher(line).find()) {
          offences.add(MAIN.relativize(source) + ":" + (i + 1) + ": " + line.trim());
        }
      }
    }
    assertEquals(List.of(), offences, "perl-spark-jobs must use only the family seam");
  }

  @Test
  void theCheckWouldCatchAnImportOfTheBuiltinFamily() {
    // Guards the patterns themselves: these lines must count as offences.
    assertTrue(CONCRETE.matcher("import io.perlspark.model.family.builtin.TinyVlm;").find());
    assertTrue(CONCRETE.matcher("ModelSpec spec = runtime.spec();").find());
    assertTrue(FAMILY_PACKAGE.matcher("import io.perlspark.model.family.qwen25vl.Anything;").find());
    assertTrue(FAMILY_PACKAGE.matcher("io.perlspark.model.family.builtin.Recipe r = null;").find());
    assertFalse(FAMILY_PACKAGE.matcher("import io.perlspark.model.family.ModelRecipe;").find());
    assertFalse(CONCRETE.matcher("PolicyModel model = runtime.build();").find());
  }
}
