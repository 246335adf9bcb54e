package io.semisup.jobs;

import io.semisup.core.dl4j.Dl4jPatches;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Installs the DL4J patches before each test class, as {@code bin/semisup} does at startup, with the
 * {@code -D} switches of the test JVM; registered for every test class (META-INF/services,
 * autodetection in junit-platform.properties), so stages under test train as the CLI's do.
 */
public final class PatchesAtStartup implements BeforeAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    Dl4jPatches.install(Dl4jPatches.Options.fromSystemProperties());
  }
}
