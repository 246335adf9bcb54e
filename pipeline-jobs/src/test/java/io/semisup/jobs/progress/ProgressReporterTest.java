package io.semisup.jobs.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress line's arithmetic and when each mode writes, on a clock the test moves. */
class ProgressReporterTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<String> out = new ArrayList<>();

  private ProgressReporter reporter(ProgressReporter.Mode mode, long total, double logSeconds) {
    return new ProgressReporter("score", "shards", total, mode, logSeconds, nanos::get, out::add);
  }

  private void advanceClock(double seconds) {
    nanos.addAndGet(Math.round(seconds * 1e9));
  }

  @Test
  void etaIsTheRemainingUnitsAtTheAverageRateSoFar() {
    assertThat(ProgressReporter.etaSeconds(25, 100, 50).getAsDouble()).isEqualTo(150.0);
    assertThat(ProgressReporter.etaSeconds(100, 100, 50).getAsDouble()).isEqualTo(0.0);
    assertThat(ProgressReporter.etaSeconds(0, 100, 50)).isEmpty();
    assertThat(ProgressReporter.etaSeconds(10, 0, 50)).isEmpty();
  }

  @Test
  void durationsReadAsAPersonWouldSayThem() {
    assertThat(ProgressReporter.duration(42.4)).isEqualTo("42s");
    assertThat(ProgressReporter.duration(187)).isEqualTo("3m07s");
    assertThat(ProgressReporter.duration(2 * 3600 + 5 * 60 + 9)).isEqualTo("2h05m");
    assertThat(ProgressReporter.duration(3 * 86_400 + 4 * 3600)).isEqualTo("3d04h");
  }

  @Test
  void theLineGivesCountPercentRateAndEta() {
    assertThat(ProgressReporter.line("score", "shards", 120, 400, 60, false))
        .isEqualTo("[score] 120/400 shards (30%), 2.00 shards/s, ETA 2m20s");
    assertThat(ProgressReporter.line("teacher", "images", 1_500_000, 6_000_000, 1000, false))
        .isEqualTo("[teacher] 1,500,000/6,000,000 images (25%), 1,500 images/s, ETA 50m00s");
    assertThat(ProgressReporter.line("score", "shards", 400, 400, 200, true))
        .isEqualTo("[score] 400/400 shards (100%), 2.00 shards/s, done in 3m20s");
    // All tasks submitted so far are done, but the stage has not finished: no "done" yet.
    assertThat(ProgressReporter.line("shard", "Spark tasks", 49, 49, 10, false))
        .isEqualTo("[shard] 49/49 Spark tasks (100%), 4.90 Spark tasks/s, ETA 0s");
    assertThat(ProgressReporter.line("shard", "Spark tasks", 0, 0, 3, false))
        .isEqualTo("[shard] 0 Spark tasks, 0.0000 Spark tasks/s");
  }

  @Test
  void withoutATerminalItLogsOncePerIntervalAndOnceAtTheEnd() {
    ProgressReporter p = reporter(ProgressReporter.Mode.LOG, 100, 30);
    advanceClock(10);
    p.update(10);
    assertThat(out).isEmpty();
    advanceClock(25);
    p.update(35);
    assertThat(out).containsExactly("[score] 35/100 shards (35%), 1.00 shards/s, ETA 1m05s");
    advanceClock(5);
    p.update(40);
    assertThat(out).hasSize(1);
    advanceClock(10);
    p.update(100);
    p.finish();
    p.finish();
    assertThat(out).hasSize(2);
    assertThat(out.get(1)).isEqualTo("[score] 100/100 shards (100%), 2.00 shards/s, done in 50s");
    assertThat(out).noneMatch(l -> l.contains("\r"));
  }

  @Test
  void onATerminalItRedrawsOneLineAndEndsIt() {
    ProgressReporter p = reporter(ProgressReporter.Mode.LIVE, 10, 30);
    advanceClock(0.5);
    p.update(1);
    assertThat(out).isEmpty();
    advanceClock(1);
    p.update(3);
    advanceClock(1);
    p.advance(2);
    p.close();
    assertThat(out).hasSize(3).allMatch(l -> l.startsWith("\r[score] "));
    assertThat(out.get(0)).startsWith("\r[score] 3/10 shards (30%)").doesNotEndWith("\n");
    assertThat(out.get(2)).startsWith("\r[score] 5/10 shards (50%)").endsWith("\n");
    assertThat(out.get(0).length()).isGreaterThanOrEqualTo(80);
  }

  @Test
  void nothingIsLoggedForWorkThatNeverStarted() {
    ProgressReporter p = reporter(ProgressReporter.Mode.LOG, 0, 30);
    p.finish();
    assertThat(out).isEmpty();
  }
}
