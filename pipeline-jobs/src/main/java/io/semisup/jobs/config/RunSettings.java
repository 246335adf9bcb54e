package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choiceList;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.path;
import static io.semisup.jobs.config.Setting.text;
import static io.semisup.jobs.config.Setting.whole;

import java.util.List;

/** The root keys: which run, where, with which seed, sharing what with which other run. */
public record RunSettings(
    String root, String runId, long seed, boolean force, String baseRun, List<String> sharedStages, int rounds) {

  /** Every stage name, in pipeline order (the values {@code shared-stages} accepts). */
  static final List<String> STAGES = List.of("import-fashion-mnist", "shard", "teacher", "score", "dedup", "select",
      "student", "finetune", "fixres", "evaluate", "audit", "report");

  static final List<Setting> SCHEMA = List.of(
      path("root", "Where runs live: <root>/<run-id>/<stage>/ (local path or Hadoop URI).").noResult(),
      text("run-id", "The run; stages of one run share its directory. Empty: run-<timestamp>.").noResult(),
      whole("seed", Range.ANY, "Seed of every random choice (labelled subset, initialisation, shuffles, augmentation)."),
      flag("force", "Redo stages even when already committed.").noResult(),
      text("base-run", "Another run of the same root whose committed shared-stages this run reads instead of running them."),
      choiceList("shared-stages", STAGES, "The stages read from base-run (when set)."),
      integer("rounds", Range.atLeast(1), "Rounds of self-training run by demo; round r > 1 is the run <run-id>.r<r>."));

  static RunSettings from(SettingsReader r) {
    RunSettings s = new RunSettings(r.stringOf("root"), r.stringOf("run-id"), r.longOf("seed"), r.booleanOf("force"),
        r.stringOf("base-run"), r.stringListOf("shared-stages"), r.intOf("rounds"));
    if (s.root.isEmpty()) {
      throw r.crossKey("root", "runs need a directory. Set root to a local path or Hadoop URI, e.g. runs.");
    }
    for (String key : List.of("run-id", "base-run")) {
      String id = key.equals("run-id") ? s.runId : s.baseRun;
      if (id.contains("/")) {
        throw r.crossKey(key, "a run id names one directory under root. Use an id without '/'.");
      }
    }
    if (!s.baseRun.isEmpty() && s.baseRun.equals(s.runId)) {
      throw r.crossKey("base-run", "a run cannot share stages with itself. Name another run of the same root.");
    }
    return s;
  }
}
