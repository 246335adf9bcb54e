package io.semisup.core.train;

/**
 * Turns on DL4J's native layer helpers (oneDNN convolution, batch norm, pooling on CPU) unless the
 * user decided otherwise.
 *
 * <p>Why: DL4J 1.0.0-M2.1 creates no layer helper unless the system property {@value #PROPERTY}
 * is {@code "false"} (its default is {@code "true"}), and helpers are created when a layer is
 * instantiated, so the property must be set before any graph is built or loaded. With the
 * {@code linux-x86_64-onednn-avx2} native build (and {@link org.nd4j.nativeblas.Nd4jCpu}) the
 * helpers train resnet-small about 6x faster per CPU second than DL4J's im2col path, with the same
 * results to float rounding ({@code NativeHelpersTest}). Set {@code -D}{@value #PROPERTY}{@code =true}
 * to measure or debug without them.
 */
public final class NativeHelpers {

  /** DL4J's switch, read each time a layer is instantiated. */
  public static final String PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

  private NativeHelpers() {}

  /** Allows helpers for layers built from now on, unless {@value #PROPERTY} is already set. */
  public static void enable() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, "false");
    }
  }

  /** Whether layers built now get helpers. */
  public static boolean enabled() {
    return "false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"));
  }
}
