package io.semisup.core.testing;

import org.opentest4j.TestAbortedException;

/**
 * A test skipped because something outside the repository is not installed. Its own type, so that
 * {@link MissingPrerequisitesSummary} can count these skips apart from ordinary assumptions and
 * name the packages that would make the tests run.
 */
public final class MissingPrerequisite extends TestAbortedException {

  private final String packages;

  MissingPrerequisite(String what, String packages) {
    super("Missing " + what + ": skipped. Install it with `apt-get install -y " + packages
        + "` (with CI=true this fails instead).");
    this.packages = packages;
  }

  /** The Debian packages to install, space-separated. */
  public String packages() {
    return packages;
  }
}
