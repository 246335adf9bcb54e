package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.jobs.config.Setting;
import io.semisup.jobs.config.SettingsHelp;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What {@code bin/semisup --help} and {@code bin/semisup <stage> --help} show: each stage's own
 * settings with their defaults and an example, and no command summary cut mid-phrase. No Spark:
 * help never starts a session.
 */
class StageHelpTest {

  private static final CommandLine CLI = SemisupCli.commandLine();

  private static String help(String... path) {
    CommandLine c = CLI;
    for (String name : path) {
      c = c.getSubcommands().get(name);
    }
    return c.getUsageMessage();
  }

  @Test
  void everyStageListsTheSettingsItReadsWithDefaultsAndAnExample() {
    for (Stage stage : StageGraph.standard().all()) {
      String help = help(stage.name());
      List<Setting> settings = SettingsHelp.under(stage.settingsRead());
      for (Setting s : settings) {
        assertThat(help).as(stage.name()).contains("  " + s.key() + " = ");
      }
      assertThat(help).as(stage.name()).contains("Example:", "bin/semisup " + stage.name() + " --run-id ");
    }
  }

  @Test
  void aTrainingStageShowsItsDefaultsAndDocsButNotOtherSections() {
    String help = settingsPart(help("teacher"));
    assertThat(help).contains("  teacher.epochs = ", "Passes over the training data",
        "  model.input.channels = ", "  seed = ");
    assertThat(help).doesNotContain("student.epochs", "select.k");
    assertThat(settingsPart(help("select"))).contains("  select.k = ", "  score.top-p = ")
        .doesNotContain("score.batch-size");
  }

  private static String settingsPart(String help) {
    return help.substring(help.indexOf("Settings ("));
  }

  @Test
  void helpLinesFitTheUsageWidth() {
    for (Stage stage : StageGraph.standard().all()) {
      for (String line : help(stage.name()).lines().toList()) {
        assertThat(line.length()).as(stage.name() + ": " + line).isLessThanOrEqualTo(StageHelp.WIDTH);
      }
    }
  }

  @Test
  void aLongExampleBreaksBeforeAnOptionWithAContinuation() {
    List<String> lines = StageHelp.exampleLines(StageHelp.example("shard"));
    assertThat(lines).hasSizeGreaterThan(1);
    for (int i = 0; i < lines.size() - 1; i++) {
      assertThat(lines.get(i)).endsWith(" \\");
    }
    assertThat(lines.get(1).trim()).startsWith("--set ");
    assertThat(String.join(" ", lines).replace(" \\", "").replaceAll("\\s+", " ").trim())
        .isEqualTo(StageHelp.example("shard"));
  }

  @Test
  void everyCommandSummaryIsAWholeSentence() {
    List<String> cut = new ArrayList<>();
    collectSummaries(CLI, "semisup", cut);
    assertThat(cut).as("command summaries (first description line) that end mid-phrase").isEmpty();
  }

  /** The first description line is what the parent's command list shows. */
  private static void collectSummaries(CommandLine c, String path, List<String> cut) {
    String[] description = c.getCommandSpec().usageMessage().description();
    if (description.length > 0 && c != CLI) {
      String first = description[0].trim();
      if (!first.endsWith(".") && !first.endsWith(".)")) {
        cut.add(path + ": " + first);
      }
    }
    c.getSubcommands().forEach((name, sub) -> {
      if (sub.getCommandSpec().parent() == c.getCommandSpec()) {
        collectSummaries(sub, path + " " + name, cut);
      }
    });
  }
}
