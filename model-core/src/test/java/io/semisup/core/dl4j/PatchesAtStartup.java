package io.semisup.core.dl4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.dl4j.Dl4jPatches.Options;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Installs the DL4J patches before each test class, as the CLI does at startup, with the {@code -D}
 * switches of the test JVM; registered for every test class (META-INF/services, autodetection in
 * junit-platform.properties). Each class so starts from the startup installation, whatever an
 * earlier class switched.
 */
public final class PatchesAtStartup implements BeforeAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    reinstall();
  }

  /** Back to the startup installation (a test that switched patches calls this after). */
  static void reinstall() {
    Dl4jPatches.install(Options.fromSystemProperties());
  }

  /** Skips the calling test unless DL4J's native layer helpers are on. */
  static void assumeNativeHelpers() {
    reinstall();
    assumeTrue(NativeHelpers.enabled(), "DL4J helpers disabled by the user");
  }

  /** Installs the startup options with {@code patch} switched off. */
  static void switchOff(Dl4jPatches.Patch patch) {
    Dl4jPatches.install(Options.fromSystemProperties().with(patch, false));
  }
}
