package io.semisup.core.dl4j;

/**
 * Turns on DL4J's native layer helpers (oneDNN convolution, batch norm, pooling on CPU) unless the
 * user decided otherwise.
 *
 * <p>Why: DL4J 1.0.0-M2.1 creates no layer helper unless the system property {@value #PROPERTY}
 * is {@code "false"} (its default is {@code "true"}), and helpers are created when a layer is
 * instantiated, so the property must be set before any graph is built or loaded: {@link
 * Dl4jPatches#install} does, at startup (switch {@code native-helpers}), and nothing else. With
 * the {@code linux-x86_64-onednn-avx2} native build (and {@link org.nd4j.nativeblas.Nd4jCpu}) the
 * helpers train resnet-small about 6x faster per CPU second than DL4J's im2col path, with the same
 * results to float rounding ({@code NativeHelpersTest}). {@code -D}{@value #PROPERTY}{@code =true}
 * keeps them off, to measure or debug without them.
 */
public final class NativeHelpers implements PatchInstaller.Found {

  /** DL4J's switch, read each time a layer is instantiated. */
  static final String PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

  private static final String BINDING = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";

  private static volatile Boolean oneDnn; // null until asked

  private boolean setByUs;

  private NativeHelpers() {}

  /** Nothing to look up: the property is DL4J's public switch, and the oneDNN probe cannot fail. */
  static NativeHelpers lookUp() {
    return new NativeHelpers();
  }

  /**
   * Sets {@value #PROPERTY} to {@code false} unless the user set it; switched off, clears it again
   * if it was set here (layers built in between keep their helpers).
   */
  @Override
  public synchronized void switched(boolean on) {
    if (on && System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, "false");
      setByUs = true;
    } else if (!on && setByUs) {
      System.clearProperty(PROPERTY);
      setByUs = false;
    }
  }

  @Override
  public String detail() {
    if (!enabled()) {
      return "kept off by -D" + PROPERTY + "=" + System.getProperty(PROPERTY);
    }
    return oneDnn() ? "oneDNN" : "no oneDNN in the native build";
  }

  /** Whether layers built now get helpers. */
  static boolean enabled() {
    return "false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"));
  }

  /**
   * Whether the loaded ND4J native build has oneDNN and uses it; asked of ND4J's binding by
   * reflection the first time (so that model-core compiles without nd4j-native), false when it
   * is not there (another backend, a build without oneDNN).
   */
  public static boolean oneDnn() {
    Boolean v = oneDnn;
    if (v == null) {
      try {
        Class<?> c = Class.forName(BINDING);
        Object env = c.getMethod("getInstance").invoke(null);
        v = Boolean.TRUE.equals(c.getMethod("isUseONEDNN").invoke(env));
      } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
        v = false;
      }
      oneDnn = v;
    }
    return v;
  }
}
