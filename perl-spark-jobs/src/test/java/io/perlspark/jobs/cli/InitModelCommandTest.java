package io.perlspark.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.perlspark.common.config.ModelConfig;
import io.perlspark.model.family.ModelFamilies;
import io.perlspark.model.family.RecipeContext;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code perl init-model}: a folder the family seam accepts as model.path, and clear refusals. */
class InitModelCommandTest {
  static final Path TOKENIZER = Path.of("..", "perl-model", "src", "test", "resources", "qwen25vl");
  static final Path TINY = Path.of("..", "conf", "models", "qwen2_5_vl-tiny", "config.json");
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run perl(String... args) {
    CommandLine cl = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = cl.execute(args);
      Run r = new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
      assertFalse(r.err().contains("\tat "), "no stack trace: " + r);
      return r;
    } finally {
      System.setOut(stdout);
    }
  }

  @Test
  void writesAModelFolderThatTheFamilyAcceptsAsModelPath() throws Exception {
    Path out = dir.resolve("qwen-tiny");
    Run r = perl("init-model", "--config", TINY.toString(), "--tokenizer-from", TOKENIZER.toString(), "--out",
        out.toString(), "--seed", "3");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("wrote 4,981,344 parameters"), r.out());
    assertTrue(r.out().contains("model.family=qwen2_5_vl model.path=" + out), r.out());
    for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
        "model.safetensors"}) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    ModelConfig m = io.perlspark.common.config.ConfigLoader.load(null,
        java.util.List.of("model.family=qwen2_5_vl", "model.path=" + out)).model();
    assertEquals("qwen2_5_vl", ModelFamilies.recipe(m, RecipeContext.builder().build()).familyName());

    Run again = perl("init-model", "--config", TINY.toString(), "--tokenizer-from", TOKENIZER.toString(), "--out",
        out.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("exists and is not empty; pass --overwrite"), again.err());
  }

  @Test
  void theBuiltInFamilyHasNoFolderToInitialise() {
    Run r = perl("init-model", "--family", "builtin", "--config", TINY.toString(), "--tokenizer-from",
        TOKENIZER.toString(), "--out", dir.resolve("x").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("perl train initialises it from run.seed"), r.err());
  }

  @Test
  void badSizesAndTypesAreNamed() {
    Run r = perl("init-model", "--config", TINY.toString(), "--tokenizer-from", TOKENIZER.toString(), "--out",
        dir.resolve("y").toString(), "--max-shard-size", "lots");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--max-shard-size lots"), r.err());
    Run d = perl("init-model", "--config", TINY.toString(), "--tokenizer-from", TOKENIZER.toString(), "--out",
        dir.resolve("z").toString(), "--dtype", "int8");
    assertEquals(2, d.code());
    assertTrue(d.err().contains("--dtype int8"), d.err());
  }
}
