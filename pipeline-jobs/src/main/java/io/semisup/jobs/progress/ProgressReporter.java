package io.semisup.jobs.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far a long stage has got, with a rate and an estimated time to go, e.g. {@code [score]
 * 120/400 shards (30%), 2.0 shards/s, ETA 2m20s}. Sharding, scoring, training and evaluation take
 * minutes to hours; without this the user cannot tell a slow run from a stuck one.
 *
 * <p>On a terminal ({@code System.console() != null}) the line is redrawn in place with a
 * carriage return, at most once a second, and ends with a newline at {@link #finish()}. Anywhere
 * else (a log file, YARN, Airflow) it is a log line every {@code logInterval}, plus one at the
 * end, so logs are not flooded. The rate is the average since the reporter started, which is
 * stable enough for an ETA once a few units are done; before the first unit there is no ETA.
 *
 * <p>Thread-safe: stages report from the threads that finish the work.
 */
public final class ProgressReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

  /** Where the lines go: redrawn in place, or appended as log lines. */
  public enum Mode { LIVE, LOG }

  /** Seconds between two log lines, for stages without a setting of their own. */
  public static final double LOG_INTERVAL_SECONDS = 30;

  /** Seconds between two redraws of the live line. */
  static final double LIVE_INTERVAL_SECONDS = 1;

  private final String label;
  private final String unit;
  private final Mode mode;
  private final double logIntervalSeconds;
  private final LongSupplier nanoClock;
  private final Consumer<String> sink;
  private final long startNanos;
  private long total;
  private long done;
  private long lastEmitNanos;
  private boolean emittedLive;
  private boolean finished;

  ProgressReporter(String label, String unit, long total, Mode mode, double logIntervalSeconds,
      LongSupplier nanoClock, Consumer<String> sink) {
    this.label = label;
    this.unit = unit;
    this.total = total;
    this.mode = mode;
    this.logIntervalSeconds = logIntervalSeconds;
    this.nanoClock = nanoClock;
    this.sink = sink;
    this.startNanos = nanoClock.getAsLong();
    this.lastEmitNanos = startNanos;
  }

  /**
   * A reporter for {@code total} units of {@code unit} (e.g. "shards", "images"), live on a
   * terminal and a log line every {@code logIntervalSeconds} otherwise.
   */
  public static ProgressReporter start(String label, String unit, long total, double logIntervalSeconds) {
    boolean terminal = System.console() != null;
    PrintStream err = System.err;
    return new ProgressReporter(label, unit, total, terminal ? Mode.LIVE : Mode.LOG,
        logIntervalSeconds, System::nanoTime,
        terminal ? line -> { err.print(line); err.flush(); } : LOG::info);
  }

  /** Adds {@code units} finished units. */
  public synchronized void advance(long units) {
    update(done + units);
  }

  /** Sets the number of finished units. */
  public synchronized void update(long doneUnits) {
    done = doneUnits;
    emitIfDue(false);
  }

  /** Changes the total, for work whose size is learnt on the way (Spark tasks of later jobs). */
  public synchronized void total(long units) {
    total = units;
  }

  /** Prints the final line (live mode: and ends it); later calls do nothing. */
  public synchronized void finish() {
    if (!finished) {
      finished = true;
      emitIfDue(true);
    }
  }

  @Override
  public void close() {
    finish();
  }

  private void emitIfDue(boolean last) {
    long now = nanoClock.getAsLong();
    double sinceLast = (now - lastEmitNanos) / 1e9;
    double interval = mode == Mode.LIVE ? LIVE_INTERVAL_SECONDS : logIntervalSeconds;
    if (!last && sinceLast < interval) {
      return;
    }
    lastEmitNanos = now;
    String text = line(label, unit, done, total, (now - startNanos) / 1e9, last);
    if (mode == Mode.LIVE) {
      // Pad so a shorter line fully covers the previous one.
      sink.accept("\r" + String.format(Locale.ROOT, "%-79s", text) + (last ? "\n" : ""));
      emittedLive = true;
    } else if (!last || done > 0) {
      sink.accept(text);
    }
  }

  /** Whether a live line has been drawn (for tests). */
  synchronized boolean drewLive() {
    return emittedLive;
  }

  /**
   * The progress line: label, done/total unit (percent), rate, and the ETA, or the time taken
   * once {@code finished} (a total that grows, as Spark's tasks do, may be reached before).
   */
  public static String line(String label, String unit, long done, long total, double elapsedSeconds,
      boolean finished) {
    StringBuilder b = new StringBuilder("[").append(label).append("] ");
    b.append(String.format(Locale.ROOT, "%,d", done));
    if (total > 0) {
      b.append(String.format(Locale.ROOT, "/%,d %s (%d%%)", total, unit,
          (int) Math.min(100, Math.floor(100.0 * done / total))));
    } else {
      b.append(' ').append(unit);
    }
    double rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
    b.append(String.format(Locale.ROOT, ", %s %s/s", rate(rate), unit));
    OptionalDouble eta = etaSeconds(done, total, elapsedSeconds);
    if (finished) {
      b.append(", done in ").append(duration(elapsedSeconds));
    } else if (eta.isPresent()) {
      b.append(", ETA ").append(duration(eta.getAsDouble()));
    }
    return b.toString();
  }

  /**
   * Seconds until {@code total} at the average rate so far; empty before the first unit or with
   * no known total.
   */
  public static OptionalDouble etaSeconds(long done, long total, double elapsedSeconds) {
    if (done <= 0 || total <= 0 || elapsedSeconds <= 0) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(Math.max(0, total - done) * elapsedSeconds / done);
  }

  /** A duration as a person reads it: 42s, 3m07s, 2h05m, 3d04h. */
  public static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, (s % 86_400) / 3600);
  }

  /** Three significant figures at most, no exponent: 0.0123, 4.56, 78.9, 1,234. */
  static String rate(double perSecond) {
    if (perSecond >= 100) {
      return String.format(Locale.ROOT, "%,d", Math.round(perSecond));
    }
    if (perSecond >= 10) {
      return String.format(Locale.ROOT, "%.1f", perSecond);
    }
    if (perSecond >= 0.1) {
      return String.format(Locale.ROOT, "%.2f", perSecond);
    }
    return String.format(Locale.ROOT, "%.4f", perSecond);
  }
}
