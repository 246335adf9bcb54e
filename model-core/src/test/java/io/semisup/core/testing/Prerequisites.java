package io.semisup.core.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a test needs from outside the repository, checked in one place.
 *
 * <p>Why: a test that quietly skips when a package is missing lets {@code mvn -B test} go green
 * with half the suite unrun. Here a missing prerequisite fails the test under CI (environment
 * {@code CI=true}, set by CI systems and {@code .ci/run}), with the {@code apt-get} line that fixes
 * it; elsewhere it skips the test as a {@link MissingPrerequisite}, which
 * {@link MissingPrerequisitesSummary} counts and reports loudly at the end of the run.
 *
 * <p>pipeline-jobs' tests use this class too, through model-core's test jar.
 */
public final class Prerequisites {

  /** Environment variable that turns a missing prerequisite into a failure. */
  public static final String CI = "CI";

  /** Where Debian's {@code dataset-fashion-mnist} installs the IDX files. */
  public static final String FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

  /** The system property that points the tests at another copy of the IDX files. */
  public static final String FASHION_MNIST_PROPERTY = "semisup.fashionMnistDir";

  private Prerequisites() {}

  /**
   * The Fashion-MNIST IDX files (Debian package {@code dataset-fashion-mnist}), by default where
   * the package puts them, or the folder given by {@value #FASHION_MNIST_PROPERTY}.
   *
   * @return the folder holding the four {@code *-ubyte.gz} files
   */
  public static Path fashionMnist() {
    Path dir = Path.of(System.getProperty(FASHION_MNIST_PROPERTY, FASHION_MNIST_DIR));
    boolean present = true;
    for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
      present &= Files.isRegularFile(dir.resolve(f));
    }
    require(present, "Fashion-MNIST in " + dir, "dataset-fashion-mnist");
    return dir;
  }

  /**
   * Passes when {@code present}; otherwise fails the test under CI and skips it elsewhere.
   *
   * @param what what is missing, for the message
   * @param packages the Debian packages that provide it, space-separated
   */
  public static void require(boolean present, String what, String packages) {
    require(present, what, packages, onCi());
  }

  static void require(boolean present, String what, String packages, boolean ci) {
    if (present) {
      return;
    }
    if (ci) {
      throw new AssertionError("Missing " + what + ": " + CI + "=true runs every test. Install it with `apt-get install -y "
          + packages + "`.");
    }
    throw new MissingPrerequisite(what, packages);
  }

  /** Whether this run is CI's, where nothing may be skipped. */
  public static boolean onCi() {
    return "true".equalsIgnoreCase(System.getenv(CI));
  }

  /** Headless Chromium, which opens the report page ({@code InspectPseudoLabelsTest}). */
  public static Path chromium() {
    return program("/usr/bin/chromium", "chromium");
  }

  /** Jupyter's {@code nbconvert}, which executes the notebook headlessly. */
  public static Path nbconvert() {
    return program("/usr/bin/jupyter-nbconvert", "jupyter-nbconvert python3-nbconvert python3-ipykernel");
  }

  /**
   * Debian's {@code python3} with these modules importable, each from its Debian package
   * {@code python3-<module>} (e.g. {@code jinja2} from {@code python3-jinja2}).
   *
   * @return the interpreter
   */
  public static Path python3(String... modules) {
    Path python = program("/usr/bin/python3", "python3");
    if (modules.length == 0) {
      return python;
    }
    List<String> packages = new ArrayList<>();
    for (String m : modules) {
      packages.add("python3-" + m.toLowerCase(java.util.Locale.ROOT));
    }
    require(imports(python, modules), "python3 modules " + String.join(", ", modules), String.join(" ", packages));
    return python;
  }

  private static Path program(String path, String packages) {
    require(new File(path).canExecute(), path, packages);
    return Path.of(path);
  }

  private static boolean imports(Path python, String... modules) {
    try {
      Process p = new ProcessBuilder(python.toString(), "-c", "import " + String.join(", ", modules))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
