package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.jobs.tables.Table;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step of the pipeline, with the commit protocol that makes runs resumable and idempotent.
 *
 * <p>A stage writes everything into a private staging directory; only when it finished does a
 * single rename publish it as {@code <run>/<stage>/}, with {@code manifest.json} (counts, settings
 * hash, timings) and {@code _SUCCESS}. So a crash leaves nothing half-published, and a rerun of a
 * committed stage is a no-op unless forced.
 */
public abstract class Stage {

  public static final String SUCCESS = "_SUCCESS";
  public static final String MANIFEST = "manifest.json";

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

  /** Stages that must be committed before this run of the stage (default: all of dependsOn). */
  protected List<String> requires(RunContext ctx) {
    return dependsOn();
  }

  /** Configuration subtrees that define this stage's result (hashed into the manifest). */
  protected List<String> configKeys() {
    return List.of();
  }

  /** Does the work, writing only under {@code out}, and records counts in {@code report}. */
  protected abstract void run(RunContext ctx, Path out, StageReport report) throws Exception;

  /** Runs the stage unless it is already committed; returns its manifest's report. */
  public final Outcome execute(RunContext ctx) {
    Path target = ctx.stageDir(name());
    boolean force = ctx.config().getBoolean("force");
    if (ctx.isShared(name())) {
      if (!ctx.isCommitted(name())) {
        throw new IllegalStateException("Cannot share stage " + name() + " of base run "
            + ctx.baseRun() + ": it is not committed under " + target + ". Run `bin/semisup "
            + name() + " --run-id " + ctx.baseRun() + "` first, or drop it from shared-stages.");
      }
      log.info("[{}] shared from base run {} at {}: skipped", name(), ctx.baseRun(), target);
      return new Outcome(name(), true, target);
    }
    if (ctx.isCommitted(name()) && !force) {
      log.info("[{}] already committed at {}: skipped (use --force to redo)", name(), target);
      return new Outcome(name(), true, target);
    }
    for (String dep : requires(ctx)) {
      if (!ctx.isCommitted(dep)) {
        throw new IllegalStateException(
            "Cannot run stage " + name() + ": stage " + dep + " of run " + ctx.runId()
                + " is not committed under " + ctx.stageDir(dep) + ". Run `bin/semisup " + dep
                + " --run-id " + ctx.runId() + "` first.");
      }
    }
    Path staging = new Path(ctx.runDir(), "_staging/" + name() + "-" + UUID.randomUUID());
    StageReport report = new StageReport();
    long t0 = System.nanoTime();
    log.info("[{}] starting (run {}, staging {})", name(), ctx.runId(), staging);
    try {
      ctx.fs().mkdirs(staging);
      run(ctx, staging, report);
      double seconds = (System.nanoTime() - t0) / 1e9;
      writeManifest(ctx, staging, report, seconds);
      ctx.fs().create(new Path(staging, SUCCESS), true).close();
      publish(ctx, staging, target);
      log.info("[{}] committed in {} s: {}", name(), String.format("%.1f", seconds), report.counts());
      return new Outcome(name(), false, target);
    } catch (Exception e) {
      deleteQuietly(ctx, staging);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("Stage " + name() + " failed: " + e.getMessage(), e);
    }
  }

  private void publish(RunContext ctx, Path staging, Path target) throws IOException {
    if (ctx.fs().exists(target)) {
      // Only reached when forced (or an uncommitted leftover): the old output goes away first.
      if (!ctx.fs().delete(target, true)) {
        throw new IOException("Cannot replace " + target + ": delete failed");
      }
    }
    if (!ctx.fs().rename(staging, target)) {
      throw new IOException("Cannot commit " + staging + " to " + target + ": rename failed");
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
    ObjectNode settings = m.putObject("config_hash");
    for (String key : configKeys()) {
      settings.put(key, ctx.config().hash(key));
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

  /** Whether the stage ran or was skipped, and where its output is. */
  public record Outcome(String stage, boolean skipped, Path dir) {}
}
