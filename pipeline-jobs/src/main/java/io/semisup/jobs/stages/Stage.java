package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.progress.ProgressReporter;
import io.semisup.jobs.progress.SparkTaskProgress;
import io.semisup.jobs.tables.Table;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step of the pipeline, with the commit protocol that makes runs resumable and idempotent.
 *
 * <p>A stage writes everything into a private staging directory; only when it finished does a
 * single rename publish it as {@code <run>/<stage>/}, with {@code manifest.json} (counts, the
 * settings it read, the manifests of its inputs, timings) and {@code _SUCCESS}. So a crash leaves
 * nothing half-published. A committed stage is reused only when its recorded settings and inputs
 * equal today's ({@link #decide}); a changed setting stops the command before any work, and a
 * recomputed input makes it stale. Only one command writes a run at a time ({@link RunLock}).
 */
public abstract class Stage {

  public static final String SUCCESS = "_SUCCESS";
  public static final String MANIFEST = "manifest.json";
  /** Where stages write before their commit, under the run directory. */
  public static final String STAGING = "_staging";
  /** Manifest fields of the stage's identity ({@link StageIdentity}). */
  static final String SETTINGS = "settings";
  static final String INPUTS = "inputs";

  protected final Logger log = LoggerFactory.getLogger(getClass());

  /** The stage's name: its CLI subcommand and its directory under the run. */
  public abstract String name();

  /** One line for --help and the stage list. */
  public abstract String description();

  /** Stages whose committed output this one reads. */
  public abstract List<String> dependsOn();

  /**
   * The tables this stage reads, each written by a stage it depends on (directly or through
   * others); files that are not tables (models, metrics.json, classes.json) are not listed.
   */
  public abstract List<Table> inputs();

  /** The Parquet tables this stage writes, every one of them, through their handles. */
  public abstract List<Table> outputs();

  /**
   * Whether this run's configuration asks for the stage (default: always). A disabled stage is
   * skipped by every command, and the stage graph plans nothing for it (e.g. {@code fixres}
   * without {@code fixres.enabled}).
   */
  public boolean enabled(RunContext ctx) {
    return true;
  }

  /** Stages that must be committed before this run of the stage (default: all of dependsOn). */
  protected List<String> requires(RunContext ctx) {
    return dependsOn();
  }

  /**
   * Configuration subtrees or keys that define this stage's result: recorded in the manifest and
   * compared on reuse ({@link StageIdentity}). Every key the stage reads belongs here.
   */
  protected List<String> configKeys() {
    return List.of();
  }

  /**
   * Whether the stage reports its own progress in units a user knows (training images, scored
   * shards); the others report the Spark tasks they run ({@link SparkTaskProgress}).
   */
  protected boolean reportsOwnProgress() {
    return false;
  }

  /** The sections and keys of {@link #configKeys()}, for the stage's {@code --help}. */
  public final List<String> settingsRead() {
    return configKeys();
  }

  /**
   * Committed stage directories outside this run's stage graph that the stage reads (e.g. the
   * model of another run that a round-2 teacher starts from), keyed by the setting naming them:
   * their manifests join the stage's identity like its inputs'.
   */
  protected Map<String, Path> externalInputs(RunContext ctx) {
    return Map.of();
  }

  /** Does the work, writing only under {@code out}, and records counts in {@code report}. */
  protected abstract void run(RunContext ctx, Path out, StageReport report) throws Exception;

  /**
   * What this command does with the stage, decided from the committed manifests before any work:
   * reuse it (its recorded settings and inputs equal today's), run it (not committed), rerun it
   * (forced, or an input was recomputed since), or refuse (its settings changed and --force was
   * not given: a changed setting is never silently ignored).
   *
   * @param planned decisions already taken for earlier stages of the same command (the demo plans
   *     every stage up front); empty for a single-stage command
   * @throws UsageError when the stage cannot be reused nor run as asked
   */
  public final Decision decide(RunContext ctx, Map<String, Decision> planned) {
    if (ctx.isShared(name())) {
      if (!ctx.isCommitted(name())) {
        throw new UsageError("Cannot share stage " + name() + " of base run "
            + ctx.baseRun() + ": it is not committed under " + ctx.stageDir(name()) + ". Run `bin/semisup "
            + name() + " --run-id " + ctx.baseRun() + "` first, or drop it from shared-stages.");
      }
      JsonNode baseSettings = ctx.manifest(name()).get(SETTINGS);
      List<String> diffs = baseSettings == null ? List.of() : identity(ctx.config()).differences(baseSettings);
      if (!diffs.isEmpty()) {
        throw new UsageError("Cannot share stage " + name() + " of base run " + ctx.baseRun()
            + ": this run's settings differ from those it was computed with (" + String.join(", ", diffs)
            + "). Drop " + name() + " and the shared stages after it from shared-stages to compute them"
            + " in this run, or set the same values.");
      }
      return new Decision(name(), Action.SHARED, "shared from base run " + ctx.baseRun());
    }
    StageIdentity identity = identity(ctx.config());
    for (String dep : requires(ctx)) {
      Decision d = planned.get(dep);
      boolean willRun = d != null && d.action().computes();
      if (!willRun && !ctx.isCommitted(dep)) {
        throw new UsageError("Cannot run stage " + name() + ": stage " + dep + " of run "
            + ctx.runId() + " is not committed under " + ctx.stageDir(dep) + ". " + missingInputHint(ctx, dep));
      }
    }
    if (!ctx.isCommitted(name())) {
      return new Decision(name(), Action.RUN, "not committed yet");
    }
    if (ctx.settings().run().force()) {
      return new Decision(name(), Action.RERUN, "forced");
    }
    JsonNode manifest = ctx.manifest(name());
    JsonNode recorded = manifest.get(SETTINGS);
    if (recorded == null) {
      throw new UsageError("Cannot reuse stage " + name() + " of run " + ctx.runId()
          + ": it was committed by an earlier semisup that did not record its settings; add --force"
          + " to recompute it and every stage after it, or use a new --run-id.");
    }
    List<String> diffs = identity.differences(recorded);
    if (!diffs.isEmpty()) {
      throw new UsageError("Cannot reuse stage " + name() + " of run " + ctx.runId() + ": "
          + String.join(", ", diffs) + "; add --force to recompute it and every stage after it,"
          + " or use a new --run-id.");
    }
    JsonNode inputs = manifest.path(INPUTS);
    for (String dep : requires(ctx)) {
      Decision d = planned.get(dep);
      if (d != null && d.action().computes()) {
        return new Decision(name(), Action.RERUN, "its input " + dep + " is recomputed first");
      }
      if (!ctx.manifestHash(dep).equals(inputs.path(dep).asText())) {
        return new Decision(name(), Action.RERUN,
            "stale: its input " + dep + " was recomputed after it committed");
      }
    }
    for (Map.Entry<String, Path> e : externalInputs(ctx).entrySet()) {
      if (!ctx.manifestHash(e.getValue()).equals(inputs.path(e.getKey()).asText())) {
        return new Decision(name(), Action.RERUN,
            "stale: " + e.getValue() + " (" + e.getKey() + ") was recomputed after it committed");
      }
    }
    return new Decision(name(), Action.REUSE, "already committed with the same settings and inputs");
  }

  /** What to do when {@code dep}, a stage this one requires, is not committed: one sentence. */
  protected String missingInputHint(RunContext ctx, String dep) {
    return "Run `bin/semisup " + dep + " --run-id " + ctx.runId() + "` first (or `bin/semisup demo` for every stage).";
  }

  /** The settings this stage reads under {@code config}: equal identities compute the same output. */
  final StageIdentity identity(SemisupConfig config) {
    return StageIdentity.of(config, configKeys());
  }

  /**
   * True when this stage computes the same output under both configurations (its settings are
   * equal); {@link SharedStages} uses it to decide what a variant of a run may share.
   */
  public final boolean sameSettings(SemisupConfig a, SemisupConfig b) {
    return identity(a).settings().equals(identity(b).settings());
  }

  /** Runs the stage unless a committed output with the same identity exists ({@link #decide}). */
  public final Outcome execute(RunContext ctx) {
    Path target = ctx.stageDir(name());
    if (!enabled(ctx)) {
      log.info("[{}] {}: skipped", name(), NOT_ENABLED);
      return new Outcome(name(), true, target, NOT_ENABLED);
    }
    Decision decision = decide(ctx, Map.of());
    if (!decision.action().computes()) {
      log.info("[{}] {} at {}: skipped", name(), decision.why(), target);
      return new Outcome(name(), true, target, decision.why());
    }
    ctx.lockForWriting();
    Path staging = new Path(ctx.runDir(), STAGING + "/" + name() + "-" + UUID.randomUUID());
    StageReport report = new StageReport();
    long t0 = System.nanoTime();
    log.info("[{}] starting: {} (run {}, staging {})", name(), decision.why(), ctx.runId(), staging);
    try {
      ctx.fs().mkdirs(staging);
      try (SparkTaskProgress tasks = reportsOwnProgress() || ctx.spark() == null ? null
          : SparkTaskProgress.attach(ctx.spark(), name(), ProgressReporter.LOG_INTERVAL_SECONDS)) {
        run(ctx, staging, report);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      writeManifest(ctx, staging, report, seconds);
      ctx.fs().create(new Path(staging, SUCCESS), true).close();
      publish(ctx, staging, target);
      log.info("[{}] committed in {} s: {}", name(), String.format("%.1f", seconds), report.counts());
      return new Outcome(name(), false, target, decision.why());
    } catch (Exception e) {
      deleteQuietly(ctx, staging);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("Stage " + name() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Renames the staging directory in as the stage's output. A previous output is moved aside
   * first and deleted only once the new one is in place, so a crash mid-rerun leaves the old
   * output readable (and, if the crash falls between the two renames, the old output is put
   * back).
   */
  private void publish(RunContext ctx, Path staging, Path target) throws IOException {
    Path aside = null;
    if (ctx.fs().exists(target)) {
      aside = new Path(ctx.runDir(), STAGING + "/" + name() + "-replaced-" + UUID.randomUUID());
      if (!ctx.fs().rename(target, aside)) {
        throw new IOException("Cannot replace " + target + ": moving it aside to " + aside + " failed");
      }
    }
    if (!ctx.fs().rename(staging, target)) {
      if (aside != null) {
        ctx.fs().rename(aside, target);
      }
      throw new IOException("Cannot commit " + staging + " to " + target + ": rename failed");
    }
    if (aside != null) {
      deleteQuietly(ctx, aside);
    }
  }

  private void writeManifest(RunContext ctx, Path staging, StageReport report, double seconds)
      throws IOException {
    ObjectNode m = RunContext.json().createObjectNode();
    m.put("stage", name());
    m.put("run_id", ctx.runId());
    m.put("schema_version", io.semisup.jobs.tables.Tables.SCHEMA_VERSION);
    m.put("finished_at", Instant.now().toString());
    m.put("duration_s", Math.round(seconds * 10) / 10.0);
    m.put("commit_id", UUID.randomUUID().toString());
    StageIdentity identity = identity(ctx.config());
    m.set(SETTINGS, identity.settingsJson());
    m.putPOJO("excluded_settings", identity.excluded());
    ObjectNode inputs = m.putObject(INPUTS);
    for (String dep : requires(ctx)) {
      inputs.put(dep, ctx.manifestHash(dep));
    }
    for (Map.Entry<String, Path> e : externalInputs(ctx).entrySet()) {
      inputs.put(e.getKey(), ctx.manifestHash(e.getValue()));
    }
    m.putPOJO("depends_on", dependsOn());
    m.set("counts", RunContext.json().valueToTree(report.counts()));
    m.set("details", RunContext.json().valueToTree(report.details()));
    m.put("spark_version", ctx.spark().version());
    ctx.writeString(
        new Path(staging, MANIFEST),
        RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(m));
  }

  private void deleteQuietly(RunContext ctx, Path staging) {
    try {
      ctx.fs().delete(staging, true);
    } catch (IOException ignored) {
      log.warn("[{}] could not remove staging directory {}", name(), staging);
    }
  }

  /** What a command does with a stage. */
  public enum Action {
    SHARED, REUSE, RUN, RERUN;

    /** Whether the stage does its work (and so changes what later stages read). */
    public boolean computes() {
      return this == RUN || this == RERUN;
    }
  }

  /** A decision of {@link #decide} and its reason, in words. */
  public record Decision(String stage, Action action, String why) {}

  /**
   * What {@link #execute} did and where its output is: {@code skipped} when nothing was computed,
   * and why in words (not enabled by the configuration, already committed, or why it ran), so a
   * stage list never calls a stage that is merely switched off "already committed".
   */
  public record Outcome(String stage, boolean skipped, Path dir, String why) {}

  /** Why a stage its configuration switches off is skipped. */
  static final String NOT_ENABLED = "not enabled by this run's configuration";
}
