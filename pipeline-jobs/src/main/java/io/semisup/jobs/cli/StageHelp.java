package io.semisup.jobs.cli;

import io.semisup.jobs.config.SettingsHelp;
import io.semisup.jobs.stages.Stage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The part of a stage's {@code --help} below its options: the stages it runs after, the settings
 * it reads (key, default, meaning, from the typed declarations) and an example command. Built
 * from the stage itself, so a key a stage starts reading shows up in its help without an edit
 * here.
 */
final class StageHelp {

  /** picocli's default usage width; the footer is wrapped to it so picocli leaves it as is. */
  static final int WIDTH = 80;

  /** Stage-specific arguments of the example; other stages show just a run id. */
  private static final Map<String, String> EXAMPLE_ARGS = Map.of(
      "shard", "--set data.train-dir=data/train --set data.val-dir=data/val"
          + " --set data.unlabelled-dir=data/unlabelled",
      "teacher", "--set teacher.epochs=10",
      "score", "--set score.batch-size=128",
      "select", "--set select.k=2000 --set select.p=5",
      "student", "--set student.epochs=10",
      "finetune", "--set finetune.epochs=2",
      "report", "--set report.images-per-class=20");

  private StageHelp() {}

  /** The footer lines; picocli formats each as a format string, so '%' comes doubled. */
  static String[] footer(Stage stage) {
    List<String> lines = new ArrayList<>();
    lines.add("");
    if (!stage.dependsOn().isEmpty()) {
      lines.add("Runs after: " + String.join(", ", stage.dependsOn()) + " (in the same --run-id).");
      lines.add("");
    }
    List<String> settings = SettingsHelp.lines(stage.settingsRead(), WIDTH);
    if (settings.isEmpty()) {
      lines.add("Settings: none of its own.");
    } else {
      lines.add("Settings (key = default; change one with --set key=value):");
      lines.addAll(settings);
    }
    lines.add("");
    lines.add("Example:");
    lines.addAll(exampleLines(example(stage.name())));
    return lines.stream().map(l -> l.replace("%", "%%")).toArray(String[]::new);
  }

  /**
   * The example as shell lines of at most {@link #WIDTH} columns: a long one is broken before an
   * option, each broken line ending in a backslash so it still pastes as one command.
   */
  static List<String> exampleLines(String command) {
    List<String> lines = new ArrayList<>();
    String[] parts = command.split(" (?=--)");
    StringBuilder line = new StringBuilder("  " + parts[0]);
    for (int i = 1; i < parts.length; i++) {
      if (line.length() + 1 + parts[i].length() + 2 > WIDTH) {
        lines.add(line + " \\");
        line = new StringBuilder("      " + parts[i]);
      } else {
        line.append(' ').append(parts[i]);
      }
    }
    lines.add(line.toString());
    return lines;
  }

  /** A command that runs the stage, as a user would type it. */
  static String example(String stage) {
    String args = EXAMPLE_ARGS.get(stage);
    return "bin/semisup " + stage + " --run-id my-run" + (args == null ? "" : " " + args);
  }
}
