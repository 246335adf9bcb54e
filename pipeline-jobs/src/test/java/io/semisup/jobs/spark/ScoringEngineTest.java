package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.jobs.config.SemisupConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The score keys resolve to one way of running the engine, or fail naming the key. */
class ScoringEngineTest {

  private static ScoringEngine engine(int taskCpus, String... overrides) {
    return ScoringEngine.from(
        SemisupConfig.load(null, null, List.of(overrides)).settings().score(), taskCpus);
  }

  @Test
  void defaultRunsConcurrentlyOnTheCpuWithTheCoresOfATask() {
    assertThat(engine(1)).isEqualTo(new ScoringEngine(false, 1, true));
    assertThat(engine(4)).isEqualTo(new ScoringEngine(false, 4, true));
  }

  @Test
  void aGpuTakesTurns() {
    assertThat(engine(1, "score.cuda=true")).isEqualTo(new ScoringEngine(true, 0, false));
    assertThat(engine(1, "score.cuda=true", "score.engine-sharing=concurrent"))
        .isEqualTo(new ScoringEngine(true, 1, true));
  }

  @Test
  void explicitSettingsWin() {
    assertThat(engine(1, "score.engine-sharing=turns")).isEqualTo(new ScoringEngine(false, 0, false));
    assertThat(engine(1, "score.intra-op-threads=3")).isEqualTo(new ScoringEngine(false, 3, true));
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> engine(1, "score.engine-sharing=sometimes"))
        .hasMessageContaining("score.engine-sharing").hasMessageContaining("turns");
    assertThatThrownBy(() -> engine(1, "score.intra-op-threads=-1"))
        .hasMessageContaining("score.intra-op-threads");
  }
}
