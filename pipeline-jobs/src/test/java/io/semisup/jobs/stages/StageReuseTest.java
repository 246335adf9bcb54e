package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import io.semisup.jobs.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A committed stage is reused only when its recorded settings and inputs equal today's; a changed
 * setting stops the command before any work, --force recomputes and makes later stages stale, and
 * a failed rerun leaves the previous output in place. Real stages on a small slice of
 * Fashion-MNIST.
 */
class StageReuseTest extends SparkTestBase {

  @TempDir Path root;

  private final ImportFashionMnistStage importStage = new ImportFashionMnistStage();
  private final ShardStage shard = new ShardStage();

  private static final String[] SLICE = {
    "data.labelled-per-class=5", "data.unlabelled-limit=60", "data.validation-size=40", "data.val-limit=40"};

  private RunContext run(String id, String... more) {
    String[] all = new String[SLICE.length + more.length];
    System.arraycopy(SLICE, 0, all, 0, SLICE.length);
    System.arraycopy(more, 0, all, SLICE.length, more.length);
    return context(root, id, all);
  }

  @Test
  void reusesOnlyWhatMatchesAndForceMakesLaterStagesStale() throws Exception {
    RunContext ctx = run("r");
    assertThat(importStage.execute(ctx).skipped()).isFalse();
    assertThat(shard.execute(ctx).skipped()).isFalse();
    assertThat(ctx.manifest("shard").get("settings").has("shard.target-shard-bytes")).isTrue();
    assertThat(ctx.manifest("shard").get("inputs").get("import-fashion-mnist").asText())
        .isEqualTo(ctx.manifestHash("import-fashion-mnist"));

    // Same settings: both reused.
    assertThat(importStage.execute(run("r")).skipped()).isTrue();
    assertThat(shard.execute(run("r")).skipped()).isTrue();
    assertThat(shard.execute(run("r")).why()).startsWith("already committed");
    // A stage the configuration switches off is skipped as such, not called committed.
    Stage.Outcome fixres = new FixresStage().execute(run("r"));
    assertThat(fixres.skipped()).isTrue();
    assertThat(fixres.why()).isEqualTo(Stage.NOT_ENABLED);

    // A changed setting: refused before any work, naming the key, the run untouched.
    String importHash = ctx.manifestHash("import-fashion-mnist");
    assertThatThrownBy(() -> importStage.execute(run("r", "data.val-limit=30")))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining("data.val-limit changed (40 -> 30)")
        .hasMessageContaining("--force");
    assertThat(ctx.manifestHash("import-fashion-mnist")).isEqualTo(importHash);
    // ... also when the whole chain is planned up front, as the demo does.
    RunContext changed = run("r", "data.val-limit=30");
    assertThatThrownBy(() -> StageGraph.standard().plan(changed, List.of("import-fashion-mnist", "shard")))
        .isInstanceOf(UsageError.class).hasMessageContaining("data.val-limit");

    // Forced: recomputed; the shard stage read the old import, so it is stale and recomputed
    // by the next command without --force, with the new settings it never saw refused.
    Map<String, Stage.Decision> plan = StageGraph.standard()
        .plan(run("r", "data.val-limit=30", "force=true"), List.of("import-fashion-mnist", "shard"));
    assertThat(plan.get("shard").action()).isEqualTo(Stage.Action.RERUN);
    assertThat(importStage.execute(run("r", "data.val-limit=30", "force=true")).skipped()).isFalse();
    assertThat(ctx.manifestHash("import-fashion-mnist")).isNotEqualTo(importHash);
    Stage.Decision stale = shard.decide(run("r", "data.val-limit=30"), Map.of());
    assertThat(stale.action()).isEqualTo(Stage.Action.RERUN);
    assertThat(stale.why()).contains("stale").contains("import-fashion-mnist");
    assertThat(shard.execute(run("r", "data.val-limit=30")).skipped()).isFalse();
    assertThat(shard.execute(run("r", "data.val-limit=30")).skipped()).isTrue();
    assertThat(ctx.manifest("shard").get("counts").get("val_read").asLong()).isEqualTo(30);
  }

  @Test
  void aFailedRerunKeepsThePreviousOutput() throws Exception {
    RunContext ctx = run("keep");
    importStage.execute(ctx);
    String before = ctx.manifestHash("import-fashion-mnist");
    RunContext broken = run("keep", "force=true", "data.fashion-mnist-dir=\"" + root.resolve("none") + "\"");
    assertThatThrownBy(() -> importStage.execute(broken)).isInstanceOf(RuntimeException.class);
    assertThat(ctx.isCommitted("import-fashion-mnist")).isTrue();
    assertThat(ctx.manifestHash("import-fashion-mnist")).isEqualTo(before);
    try (var staging = Files.list(root.resolve("keep").resolve(Stage.STAGING))) {
      assertThat(staging).isEmpty();
    }
  }

  @Test
  void aStageWhoseInputIsMissingNamesTheCommandToRunFirst() {
    assertThatThrownBy(() -> shard.execute(run("nope")))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining("import-fashion-mnist")
        .hasMessageContaining("--run-id nope");
  }

  @Test
  void aSharedStageIsReadOnlyWithTheSettingsItWasComputedWith() throws Exception {
    RunContext base = run("base");
    importStage.execute(base);
    shard.execute(base);
    String[] shared = {"base-run=base", "shared-stages=[import-fashion-mnist, shard]"};

    // Same settings: read from the base run, nothing computed.
    assertThat(shard.execute(run("same", shared)).skipped()).isTrue();
    assertThat(Files.exists(root.resolve("same").resolve("shard"))).isFalse();

    // Another shard setting: refused, naming the stage, the key and the fix; base untouched.
    String baseShard = base.manifestHash("shard");
    String[] changed = {"base-run=base", "shared-stages=[import-fashion-mnist, shard]",
        "shard.target-shard-bytes=1000000"};
    assertThatThrownBy(() -> shard.execute(run("other", changed)))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining("Cannot share stage shard of base run base")
        .hasMessageContaining("shard.target-shard-bytes changed")
        .hasMessageContaining("shared-stages");
    assertThat(base.manifestHash("shard")).isEqualTo(baseShard);

    // What a variant may share: stages whose settings it leaves alone and whose inputs it shares.
    List<String> wanted = List.of("import-fashion-mnist", "shard", "teacher", "score");
    StageGraph graph = StageGraph.standard();
    assertThat(SharedStages.shareable(graph, base.config(), run("v", "student.epochs=3").config(), wanted))
        .isEqualTo(wanted);
    assertThat(SharedStages.shareable(graph, base.config(), run("v", "teacher.epochs=3").config(), wanted))
        .containsExactly("import-fashion-mnist", "shard");
    assertThat(SharedStages.shareable(graph, base.config(),
        run("v", "shard.target-shard-bytes=1000000").config(), wanted))
        .containsExactly("import-fashion-mnist");
  }
}
