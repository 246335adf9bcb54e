package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.jobs.cli.RunOptionsAccess;
import io.semisup.jobs.config.SemisupConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoundsTest {

  private static SemisupConfig first() {
    return SemisupConfig.load("local", null, List.of("root=\"/data/runs\"", "run-id=exp")).with("run-id", "exp");
  }

  @Test
  void roundOneIsTheRunItself() {
    SemisupConfig c = first();
    assertThat(Rounds.configFor(c, 1)).isSameAs(c);
    assertThat(Rounds.runId("exp", 1)).isEqualTo("exp");
  }

  @Test
  void laterRoundsShareRoundOnesDataAndAreTaughtByThePreviousStudent() {
    SemisupConfig r3 = Rounds.configFor(first(), 3);
    assertThat(r3.getString("run-id")).isEqualTo("exp.r3");
    assertThat(r3.getString("base-run")).isEqualTo("exp");
    assertThat(r3.raw().getStringList("shared-stages")).containsExactly("import-fashion-mnist", "shard");
    assertThat(r3.getString("teacher.init-from")).isEqualTo("/data/runs/exp.r2/finetune");
    assertThat(r3.getInt("teacher.epochs")).isZero();
    assertThat(Rounds.configFor(first(), 2).getString("teacher.init-from")).isEqualTo("/data/runs/exp/finetune");
  }

  @Test
  void aRoundOneThatBorrowedItsDataSendsLaterRoundsToTheSameRun() {
    // An ablation cell: round 1 reads import and shard from the seed's base run.
    SemisupConfig cell = SemisupConfig.load("local", null, List.of("root=\"/data/runs\"", "base-run=exp",
        "shared-stages=[import-fashion-mnist, shard, teacher, score]")).with("run-id", "exp.cells-x");
    SemisupConfig r2 = Rounds.configFor(cell, 2);
    assertThat(r2.getString("run-id")).isEqualTo("exp.cells-x.r2");
    assertThat(r2.getString("base-run")).isEqualTo("exp");
    assertThat(r2.raw().getStringList("shared-stages")).containsExactly("import-fashion-mnist", "shard");
    assertThat(r2.getString("teacher.init-from")).isEqualTo("/data/runs/exp.cells-x/finetune");
  }

  @Test
  void aLargerTeacherTeachesOnlyRoundOne() {
    // Round 2's teacher is round 1's student, so it has the student's architecture; with
    // student.init=auto the student starts from scratch in round 1 and warm from round 2 on.
    SemisupConfig c = SemisupConfig.load("local", null, List.of("root=\"/data/runs\"", "run-id=exp",
        "model.teacher-architecture=resnet-medium", "student.init=auto")).with("run-id", "exp");
    assertThat(c.settings().studentWarmStart()).isFalse();
    SemisupConfig r2 = Rounds.configFor(c, 2);
    assertThat(r2.getString("model.teacher-architecture")).isEqualTo("resnet-small");
    assertThat(r2.settings().studentWarmStart()).isTrue();
  }

  @Test
  void roundZeroIsRejected() {
    assertThatThrownBy(() -> Rounds.configFor(first(), 0)).hasMessageContaining("rounds count from 1");
  }

  @Test
  void theRoundOptionOfAStageCommandSelectsTheRound() {
    SemisupConfig c = RunOptionsAccess.load("--run-id", "exp", "--root", "/data/runs", "--round", "2");
    assertThat(c.getString("run-id")).isEqualTo("exp.r2");
    assertThat(c.getString("teacher.init-from")).isEqualTo("/data/runs/exp/finetune");
    assertThat(RunOptionsAccess.load("--run-id", "exp").getString("run-id")).isEqualTo("exp");
  }
}
