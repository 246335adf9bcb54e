package io.semisup.jobs.cli;

import io.semisup.jobs.config.SemisupConfig;
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
          + "best (the ablation's best pipeline, docs/results.md).")
  String preset;

  @Option(names = "--config", description = "A HOCON file overriding conf/defaults.conf.")
  File configFile;

  @Option(
      names = {"--set", "-D"},
      description = "Override one key, e.g. --set select.k=2000 (repeatable; `semisup.` prefix optional).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--force", description = "Redo stages even if already committed.")
  boolean force;

  /** Loads and validates the configuration with these options applied. */
  public SemisupConfig load() {
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
    String id = runId != null ? runId : config.getString("run-id");
    if (id.isEmpty()) {
      id = "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
    return config.with("run-id", id);
  }
}
