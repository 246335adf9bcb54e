package io.semisup.jobs.config;

import io.semisup.core.UsageError;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * Checks, before Spark starts, that the local files and folders the given stages will read exist:
 * a wrong path otherwise surfaces minutes into a run, inside a Spark job. Paths on other file
 * systems (hdfs://, s3a://) are left to the stage, which reads them through Hadoop.
 */
final class InputChecks {

  /** The four IDX files of Debian's dataset-fashion-mnist. */
  private static final List<String> FASHION_MNIST_FILES = List.of("train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

  private InputChecks() {}

  /** Checks the inputs of each named stage that this run runs itself (not shared from base-run). */
  static void check(Settings s, Collection<String> stages) {
    for (String stage : stages) {
      if (!RunSettings.STAGES.contains(stage)) {
        throw new IllegalArgumentException("Cannot check stage '" + stage + "': known are " + RunSettings.STAGES);
      }
      if (!s.run().baseRun().isEmpty() && s.run().sharedStages().contains(stage)) {
        continue;
      }
      switch (stage) {
        case "import-fashion-mnist" -> checkFashionMnist(s.data().fashionMnistDir());
        case "shard" -> {
          mustExist(stage, "data.train-dir", s.data().trainDir());
          mustExist(stage, "data.val-dir", s.data().valDir());
          mustExist(stage, "data.unlabelled-dir", s.data().unlabelledDir());
          mustExist(stage, "data.unlabelled-listing", s.data().unlabelledListing());
        }
        case "teacher" -> mustExist(stage, "teacher.init-from", s.teacher().initFrom());
        case "score" -> {
          mustExist(stage, "score.teacher-onnx", s.score().teacherOnnx());
          mustExist(stage, "score.teacher-metadata", s.score().teacherMetadata());
        }
        case "evaluate" -> mustExist(stage, "data.hidden-labels", s.data().hiddenLabels());
        default -> { }
      }
    }
  }

  private static void checkFashionMnist(String dir) {
    Path local = local(dir);
    if (local == null) {
      return;
    }
    for (String file : FASHION_MNIST_FILES) {
      if (!Files.isRegularFile(local.resolve(file))) {
        throw new UsageError("Cannot run stage import-fashion-mnist: " + local.resolve(file) + " is missing"
            + " (data.fashion-mnist-dir = " + dir + "). Install it with `apt-get install -y dataset-fashion-mnist`"
            + " (as root), or set data.fashion-mnist-dir to a folder holding the four IDX .gz files.");
      }
    }
  }

  private static void mustExist(String stage, String key, String value) {
    Path local = local(value);
    if (local != null && !Files.exists(local)) {
      throw new UsageError("Cannot run stage " + stage + ": " + key + " = " + value + " does not exist."
          + " Point " + key + " at an existing file or folder, or leave it empty.");
    }
  }

  /** The local path a value names, or null when it is empty or on another file system. */
  static Path local(String value) {
    if (value.isEmpty()) {
      return null;
    }
    try {
      if (value.startsWith("file:")) {
        return Path.of(URI.create(value));
      }
      if (value.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
        return null;
      }
      return Path.of(value);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
