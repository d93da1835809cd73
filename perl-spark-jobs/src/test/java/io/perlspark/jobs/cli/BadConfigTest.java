package io.perlspark.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A bad config stops `perl train` before any Spark work, with a message naming the key. */
class BadConfigTest {
  @TempDir Path dir;

  String run(String... args) {
    CommandLine cl = PerlCli.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    assertEquals(2, code, "exit code of a user error; stderr: " + err);
    assertTrue(SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty(),
        "no Spark session was started");
    String text = err.toString();
    assertFalse(text.contains("\tat "), "no stack trace reaches the user: " + text);
    return text;
  }

  Path config(String yaml) throws Exception {
    Path p = dir.resolve("c.yaml");
    Files.writeString(p, yaml);
    return p;
  }

  @Test
  void unknownKeyIsNamedWithASuggestion() throws Exception {
    Path c = config("trainer: {lrr: 0.1}\nstages: [{name: a, steps: 1, data: [{path: " + dir + "}]}]\n");
    String err = run("train", "--config", c.toString());
    assertTrue(err.contains("trainer.lrr"), err);
    assertTrue(err.contains("trainer.lr"), "did-you-mean: " + err);
  }

  @Test
  void negativeLearningRateIsNamed() throws Exception {
    Path c = config("stages: [{name: a, steps: 1, data: [{path: " + dir + "}]}]\n");
    String err = run("train", "--config", c.toString(), "trainer.lr=-0.001");
    assertTrue(err.contains("trainer.lr") && err.contains("-0.001"), err);
  }

  @Test
  void aStageThatNamesAMissingDatasetIsNamed() throws Exception {
    Path c = config("stages: [{name: a, steps: 1, data: [{path: " + dir.resolve("nope") + "}]}]\n");
    String err = run("train", "--config", c.toString());
    assertTrue(err.contains("stages[0].data[0].path") && err.contains("nope"), err);
  }

  @Test
  void aRunWithoutStagesIsRefused() throws Exception {
    String err = run("train");
    assertTrue(err.contains("stages"), err);
  }

  @Test
  void oneResponsePerGroupWithoutPermutationCannotLearnAndIsRefused() throws Exception {
    Path c = config("rollout: {n: 1}\npermutation: {enabled: false}\n"
        + "stages: [{name: a, steps: 1, data: [{path: " + dir + "}]}]\n");
    String err = run("train", "--config", c.toString());
    assertTrue(err.contains("rollout.n") && err.contains("every advantage is 0"), err);

    Path staged = config("stages: [{name: a, steps: 1, data: [{path: " + dir + "}],"
        + " rollout: {n: 1}, permutation: {copies: 0}}]\n");
    String stageErr = run("train", "--config", staged.toString());
    assertTrue(stageErr.contains("stages[0].rollout.n") && stageErr.contains("permutation.copies is 0"), stageErr);
  }

  @Test
  void aSlotListOfOneSlotCanNeverPermuteAndIsRefused() throws Exception {
    Path c = config("permutation: {slots: 'list:2'}\nstages: [{name: a, steps: 1, data: [{path: " + dir + "}]}]\n");
    String err = run("train", "--config", c.toString());
    assertTrue(err.contains("permutation.slots") && err.contains("names one slot"), err);
  }
}
