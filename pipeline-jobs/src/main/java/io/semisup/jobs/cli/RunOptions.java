package io.semisup.jobs.cli;

import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.stages.Rounds;
import java.io.File;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options every command shares: which run, where, and which configuration. */
public final class RunOptions {

  @Option(
      names = "--run-id",
      description = "Run to create or continue (default: a new timestamped id). Stages of one run share <root>/<run-id>/.")
  String runId;

  @Option(names = "--root", description = "Directory or Hadoop URI holding runs (default: semisup.root, `runs`).")
  String root;

  @Option(
      names = "--env",
      defaultValue = "local",
      description = "Environment file from conf/: local or yarn (default: ${DEFAULT-VALUE}).")
  String env;

  @Option(names = "--preset",
      description = "A named configuration from conf/preset-<name>.conf under --config and --set: "
          + "best (the ablation's best pipeline, docs/results.md), fixres (the student trained at a low"
          + " resolution and fixed at the test resolution), imagenet (ResNet-50, 224x224x3, K 16000, P 10),"
          + " small-colour (small colour images such as 64x64 JPEGs, locally in minutes).")
  String preset;

  @Option(names = "--config", description = "A HOCON file overriding conf/defaults.conf.")
  File configFile;

  @Option(
      names = {"--set", "-D"},
      description = "Override one key, e.g. --set select.k=2000 (repeatable; `semisup.` prefix optional).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--force", description = "Redo stages even if already committed.")
  boolean force;

  @Option(
      names = "--round",
      defaultValue = "1",
      description = "Round of iterated self-training this stage belongs to (default: ${DEFAULT-VALUE}). "
          + "Round r > 1 runs as <run-id>.r<r>: round 1's data, round r-1's fine-tuned student as the teacher. "
          + "For schedulers that submit stage by stage; `demo` runs all `rounds` itself.")
  int round = 1;

  /** For commands that run every round themselves: rejects {@code --round}. */
  void requireNoRound(String command) {
    if (round != 1) {
      throw new UsageError("Cannot pass --round to " + command + ": it runs all its rounds itself. "
          + "Use --set rounds=N (demo) or pass --round to a single stage.");
    }
  }

  /**
   * Loads and validates the configuration with these options applied.
   *
   * @throws UsageError for any setting the configuration rejects (the CLI exits 2)
   */
  public SemisupConfig load() {
    try {
      return resolve();
    } catch (IllegalArgumentException e) {
      // Everything loading rejects (unknown key, unparsable --set, bad --round) is the user's to fix.
      throw new UsageError(e.getMessage(), e);
    }
  }

  private SemisupConfig resolve() {
    // Later entries win: --set overrides --root and --force.
    List<String> all = new ArrayList<>();
    if (root != null) {
      all.add("root=\"" + root + "\"");
    }
    if (force) {
      all.add("force=true");
    }
    all.addAll(overrides);
    SemisupConfig config = SemisupConfig.load(env, preset, configFile, all);
    String id = runId != null ? runId : config.settings().run().runId();
    if (id.isEmpty()) {
      id = "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
    return Rounds.configFor(config.with("run-id", id), round);
  }
}
