package io.perlspark.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code perl --help} lists each command with a one-line summary that is a whole sentence. */
class HelpTextTest {
  @Test
  void everyCommandHasAOneSentenceSummary() {
    CommandLine cl = PerlCli.commandLine();
    for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      String[] description = e.getValue().getCommandSpec().usageMessage().description();
      assertTrue(description.length > 0, e.getKey() + " has a description");
      String summary = description[0];
      assertTrue(summary.matches("[A-Z][^:]*\\.") && summary.length() <= 80,
          e.getKey() + ": the summary line must be one sentence of at most 80 characters, got: " + summary);
      assertTrue(description.length == 1 || description[1].isEmpty(),
          e.getKey() + ": details go after a blank line, so the summary stands alone");
    }
  }
}
