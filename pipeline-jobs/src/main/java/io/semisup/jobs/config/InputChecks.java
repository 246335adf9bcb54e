package io.semisup.jobs.config;

import io.semisup.core.UsageError;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Checks, before Spark starts, that the local files and folders the given stages will read exist:
 * a wrong path otherwise surfaces minutes into a run, inside a Spark job. The Fashion-MNIST folder
 * is always local (the import reads it on the driver, where this runs). Other inputs are checked
 * only on a local master and only on the local file system: on a cluster a path without a scheme
 * lies on the cluster's default file system, and paths there (hdfs://, s3a://) are left to the
 * stage, which reads them through Hadoop.
 */
final class InputChecks {

  /** The four IDX files of Debian's dataset-fashion-mnist. */
  private static final List<String> FASHION_MNIST_FILES = List.of("train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

  private final boolean schemelessIsLocal;

  private InputChecks(boolean schemelessIsLocal) {
    this.schemelessIsLocal = schemelessIsLocal;
  }

  /** Checks the inputs of each named stage that this run runs itself (not shared from base-run). */
  static void check(Settings s, Collection<String> stages) {
    for (String stage : stages) {
      if (!RunSettings.STAGES.contains(stage)) {
        throw new IllegalArgumentException("Cannot check stage '" + stage + "': known are " + RunSettings.STAGES);
      }
    }
    // spark-submit passes its --master as this property, which wins over spark.master.
    boolean localMaster = System.getProperty("spark.master", s.spark().master()).startsWith("local");
    InputChecks checks = new InputChecks(
        localMaster && "file".equals(FileSystem.getDefaultUri(new Configuration()).getScheme()));
    for (String stage : stages) {
      if (!s.run().baseRun().isEmpty() && s.run().sharedStages().contains(stage)) {
        continue;
      }
      if (stage.equals("import-fashion-mnist")) {
        checkFashionMnist(s.data().fashionMnistDir());
      } else if (localMaster) {
        checks.checkLocalInputs(s, stage);
      }
    }
  }

  private void checkLocalInputs(Settings s, String stage) {
    switch (stage) {
      case "shard" -> {
        mustExist(stage, "data.train-dir", s.data().trainDir());
        mustExist(stage, "data.val-dir", s.data().valDir());
        mustExist(stage, "data.validation-dir", s.data().validationDir());
        mustExist(stage, "data.unlabelled-dir", s.data().unlabelledDir());
        mustExist(stage, "data.unlabelled-listing", s.data().unlabelledListing());
        mustExist(stage, "data.class-names", s.data().classNames());
      }
      case "teacher" -> mustExist(stage, "teacher.init-from", s.teacher().initFrom());
      case "score" -> {
        mustExist(stage, "score.teacher-onnx", s.score().teacherOnnx());
        mustExist(stage, "score.teacher-metadata", s.score().teacherMetadata());
      }
      case "evaluate" -> mustExist(stage, "data.hidden-labels", s.data().hiddenLabels());
      case "audit" -> {
        mustExist(stage, "audit.suspect-dir", s.audit().suspectDir());
        mustExist(stage, "audit.reference-dir", s.audit().referenceDir());
      }
      default -> { }
    }
  }

  private static void checkFashionMnist(String dir) {
    Path local = Path.of(dir);
    for (String file : FASHION_MNIST_FILES) {
      if (!Files.isRegularFile(local.resolve(file))) {
        throw new UsageError("Cannot run stage import-fashion-mnist: " + local.resolve(file) + " is missing"
            + " (data.fashion-mnist-dir = " + dir + "). Install it with `apt-get install -y dataset-fashion-mnist`"
            + " (as root), or set data.fashion-mnist-dir to a folder holding the four IDX .gz files.");
      }
    }
  }

  private void mustExist(String stage, String key, String value) {
    Path local = local(value);
    if (local != null && !Files.exists(local)) {
      throw new UsageError("Cannot run stage " + stage + ": " + key + " = " + value + " does not exist."
          + " Point " + key + " at an existing file or folder, or leave it empty.");
    }
  }

  /** The local path a value names, or null when it is empty or on another file system. */
  private Path local(String value) {
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
      return schemelessIsLocal ? Path.of(value) : null;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
