package io.semisup.core.image;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadProgressListener;

/**
 * Stops one decode that runs past its time budget. Readers report progress on the decoding
 * thread (every few rows or scans), and this listener aborts the reader there once the budget is
 * spent, so no second thread touches a reader that is busy (the JDK JPEG reader refuses that).
 *
 * <p>The budget is CPU time of the decoding thread, not wall time: a machine shared by many
 * tasks must not turn a normal image into a TIMEOUT because its thread waited for a core, so the
 * same file gets the same verdict on a busy and an idle machine. Falls back to wall time where
 * the JVM cannot measure thread CPU time.
 */
final class DecodeDeadline implements IIOReadProgressListener {

  /** Source of "now" in nanoseconds; replaced in tests to make the deadline deterministic. */
  interface Clock {
    long nanos();
  }

  /** CPU time of the calling thread where supported, else wall time. */
  static final Clock THREAD_CPU = threadCpuClock();

  private final Clock clock;
  private final long deadline;
  private final long limitNanos;

  private DecodeDeadline(Clock clock, long limitNanos) {
    this.clock = clock;
    this.limitNanos = limitNanos;
    this.deadline = clock.nanos() + limitNanos;
  }

  /** A deadline {@code limitNanos} from now; {@code limitNanos <= 0} never expires. */
  static DecodeDeadline start(Clock clock, long limitNanos) {
    return new DecodeDeadline(clock, limitNanos);
  }

  /** Whether the budget is spent. */
  boolean expired() {
    return limitNanos > 0 && clock.nanos() - deadline > 0;
  }

  long limitMillis() {
    return limitNanos / 1_000_000;
  }

  private void check(ImageReader source) {
    if (expired()) {
      source.abort();
    }
  }

  @Override
  public void imageProgress(ImageReader source, float percentageDone) {
    check(source);
  }

  @Override
  public void imageStarted(ImageReader source, int imageIndex) {
    check(source);
  }

  @Override
  public void imageComplete(ImageReader source) {}

  @Override
  public void readAborted(ImageReader source) {}

  @Override
  public void sequenceStarted(ImageReader source, int minIndex) {}

  @Override
  public void sequenceComplete(ImageReader source) {}

  @Override
  public void thumbnailStarted(ImageReader source, int imageIndex, int thumbnailIndex) {}

  @Override
  public void thumbnailProgress(ImageReader source, float percentageDone) {}

  @Override
  public void thumbnailComplete(ImageReader source) {}

  private static Clock threadCpuClock() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (threads.isCurrentThreadCpuTimeSupported()) {
      try {
        if (!threads.isThreadCpuTimeEnabled()) {
          threads.setThreadCpuTimeEnabled(true);
        }
        return threads::getCurrentThreadCpuTime;
      } catch (UnsupportedOperationException | SecurityException e) {
        return System::nanoTime;
      }
    }
    return System::nanoTime;
  }
}
