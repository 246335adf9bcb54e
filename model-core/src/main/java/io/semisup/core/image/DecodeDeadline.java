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
 * the JVM cannot measure thread CPU time. Reading a thread's CPU clock is a system call (several
 * microseconds on a virtual machine, as long as decoding a 28x28 PNG), so it is read once at the
 * start and then only after the wall clock, which is cheap and never behind the thread's CPU
 * time, has passed the limit: a normal decode costs one CPU clock read.
 */
final class DecodeDeadline implements IIOReadProgressListener {

  /** Source of "now" in nanoseconds; replaced in tests to make the deadline deterministic. */
  interface Clock {
    long nanos();
  }

  /** CPU time of the calling thread where supported, else wall time. */
  static final Clock THREAD_CPU = threadCpuClock();

  private final Clock clock;
  private final Clock wall;
  private final long deadline;
  private final long wallDeadline;
  private final long limitNanos;

  private DecodeDeadline(Clock clock, Clock wall, long limitNanos) {
    this.clock = clock;
    this.wall = wall;
    this.limitNanos = limitNanos;
    this.deadline = limitNanos > 0 ? clock.nanos() + limitNanos : 0;
    this.wallDeadline = limitNanos > 0 && wall != clock ? wall.nanos() + limitNanos : deadline;
  }

  /** A deadline {@code limitNanos} of CPU time from now; {@code limitNanos <= 0} never expires. */
  static DecodeDeadline start(Clock clock, long limitNanos) {
    return new DecodeDeadline(clock, clock == THREAD_CPU ? System::nanoTime : clock, limitNanos);
  }

  /** Whether the budget is spent. */
  boolean expired() {
    if (limitNanos <= 0 || (wall != clock && wall.nanos() - wallDeadline <= 0)) {
      return false;
    }
    return clock.nanos() - deadline > 0;
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
