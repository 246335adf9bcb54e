package io.semisup.jobs.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * What every benchmark needs to report honestly on a shared machine: this JVM's CPU time (unlike
 * wall time, not inflated by other processes), the load average (how shared the run was),
 * rounding for the JSON line, and cleaning its work directory.
 */
final class BenchSupport {

  private BenchSupport() {}

  /** CPU time of this JVM, all threads, in nanoseconds. */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The machine's 1-minute load average (Linux), -1 where unknown. */
  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  static double round(double v, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }

  /**
   * The Fashion-MNIST IDX folder a benchmark reads: {@code --fashion-mnist-dir} when given, else
   * {@code data.fashion-mnist-dir}; a missing folder is a usage error naming the package.
   */
  static Path fashionMnistDir(Path option, io.semisup.jobs.config.SemisupConfig config) {
    Path dir = option != null ? option : Path.of(config.settings().data().fashionMnistDir());
    if (!Files.isDirectory(dir)) {
      throw new io.semisup.core.UsageError("Cannot read Fashion-MNIST from " + dir
          + ": not a directory. Install it: apt-get install -y dataset-fashion-mnist");
    }
    return dir;
  }

  /** Deletes a directory tree, if present. */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
