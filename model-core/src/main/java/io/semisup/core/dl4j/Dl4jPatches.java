package io.semisup.core.dl4j;

import java.io.Serializable;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one entry point to this package's patches of DL4J 1.0.0-M2.1: {@link FastBatchNorm},
 * {@link FastConvolution}, {@link FastRelu} and {@link NativeHelpers}.
 *
 * <p>Why one guarded seam: the patches reach into DL4J internals (private fields, helper
 * classes, a stale reflective lookup) that exist only in the version they were written for. Here
 * the DL4J and ND4J versions are checked first, and each patch's internals are looked up only when
 * its switch is on, inside {@link #install}, where any mismatch turns into one warning line and
 * stock DL4J (slower, same results to float rounding) instead of an error. Call {@link #install}
 * once at startup, before any graph is built or loaded (the CLI does; dl4j-spark's executors do
 * through {@code TrainingKernelsHook}); {@link TrainingKernels} then gives each graph about to be
 * trained the patches that are on.
 */
public final class Dl4jPatches {

  /** The DL4J and ND4J version whose internals the patches were written for. */
  public static final String EXPECTED_VERSION = "1.0.0-M2.1";

  private static final Logger LOG = LoggerFactory.getLogger(Dl4jPatches.class);

  private static PatchInstaller installer; // guarded by Dl4jPatches.class
  private static String classPathDl4j; // guarded by Dl4jPatches.class, read once
  private static String classPathNd4j; // guarded by Dl4jPatches.class, read once
  private static volatile PatchInstaller.Installation current = PatchInstaller.Installation.NONE;
  private static volatile boolean fastReluLinked;

  private Dl4jPatches() {}

  /** The patches, each with its switch's name (settings key {@code kernels.<name>}). */
  public enum Patch {
    /** Batch-norm training statistics and backward pass in {@link BatchNormKernels}. */
    FAST_BATCH_NORM("fast-batch-norm", "semisup.batchnorm.fast-stats", "false"),
    /** Convolution backward passes without the work DL4J throws away. */
    FAST_CONVOLUTION("fast-convolution", "semisup.convolution.fast-backprop", "false"),
    /** ReLU backward as two vectorized native ops. */
    FAST_RELU("fast-relu", "semisup.relu.fast-backprop", "false"),
    /** DL4J's native (oneDNN) layer helpers, which DL4J leaves off by default. */
    NATIVE_HELPERS("native-helpers", NativeHelpers.PROPERTY, "true");

    private final String switchName;
    private final String property;
    private final String offValue;

    Patch(String switchName, String property, String offValue) {
      this.switchName = switchName;
      this.property = property;
      this.offValue = offValue;
    }

    /** The switch's name, as in the settings key {@code kernels.<name>} and in {@link Status}. */
    public String switchName() {
      return switchName;
    }

    /**
     * The system property that switches it off for tests and benchmarks ({@code -D<property>=false};
     * for {@link #NATIVE_HELPERS} DL4J's own {@code -D<property>=true}).
     */
    public String property() {
      return property;
    }

    boolean switchedOffBySystemProperty() {
      return offValue.equalsIgnoreCase(System.getProperty(property, ""));
    }
  }

  /** Which patches to install; a patch switched off is never looked up. */
  public record Options(boolean fastBatchNorm, boolean fastConvolution, boolean fastRelu,
      boolean nativeHelpers) implements Serializable {

    /** Every patch on (the product's default). */
    public static Options all() {
      return new Options(true, true, true, true);
    }

    /** Every patch off: stock DL4J. */
    public static Options none() {
      return new Options(false, false, false, false);
    }

    /**
     * Every patch on unless its system property ({@link Patch#property()}) switches it off: the
     * {@code -D} switches of tests, benchmarks and {@code SEMISUP_JAVA_OPTS}.
     */
    public static Options fromSystemProperties() {
      Options o = all();
      for (Patch p : Patch.values()) {
        if (p.switchedOffBySystemProperty()) {
          o = o.with(p, false);
        }
      }
      return o;
    }

    /** Whether {@code patch} is switched on. */
    public boolean enabled(Patch patch) {
      return switch (patch) {
        case FAST_BATCH_NORM -> fastBatchNorm;
        case FAST_CONVOLUTION -> fastConvolution;
        case FAST_RELU -> fastRelu;
        case NATIVE_HELPERS -> nativeHelpers;
      };
    }

    /** These options with {@code patch} switched {@code on} or off. */
    public Options with(Patch patch, boolean on) {
      return new Options(
          patch == Patch.FAST_BATCH_NORM ? on : fastBatchNorm,
          patch == Patch.FAST_CONVOLUTION ? on : fastConvolution,
          patch == Patch.FAST_RELU ? on : fastRelu,
          patch == Patch.NATIVE_HELPERS ? on : nativeHelpers);
    }
  }

  /** What one patch is doing in this JVM. */
  public enum State {
    /** Installed: graphs about to be trained get it. */
    ON,
    /** Switched off (or {@link #install} not called yet): stock DL4J for that part. */
    OFF,
    /** Switched on, but DL4J did not match: stock DL4J for that part, with a warning. */
    FELL_BACK
  }

  /** One patch's state, with why (off, fallen back) or what it found (on). */
  public record PatchStatus(State state, String detail) {

    @Override
    public String toString() {
      String s = state.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
      return detail.isEmpty() ? s : s + " (" + detail + ")";
    }
  }

  /**
   * What {@link #install} did: the versions found and each patch's state, for the run manifest and
   * the logs.
   */
  public record Status(String dl4jVersion, String nd4jVersion, Options options,
      Map<Patch, PatchStatus> patches) {

    public Status {
      patches = Collections.unmodifiableMap(new EnumMap<>(patches));
    }

    /** Whether graphs about to be trained get {@code patch}. */
    public boolean on(Patch patch) {
      PatchStatus s = patches.get(patch);
      return s != null && s.state() == State.ON;
    }

    /** Switch name to state, e.g. {@code fast-batch-norm -> "on"}, after the two versions. */
    public Map<String, String> asMap() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("dl4j", dl4jVersion);
      m.put("nd4j", nd4jVersion);
      patches.forEach((p, s) -> m.put(p.switchName(), s.toString()));
      return m;
    }

    /** One line: the versions and each patch's state. */
    public String summary() {
      StringJoiner j = new StringJoiner(", ", "DL4J " + dl4jVersion + ", ND4J " + nd4jVersion + ": ", "");
      patches.forEach((p, s) -> j.add(p.switchName() + " " + s));
      return j.toString();
    }
  }

  /**
   * Installs the patches {@code options} switch on, once per JVM; thread-safe. The first call
   * checks the DL4J and ND4J versions; each patch's internals are looked up the first time it is
   * switched on. A call with the options already installed changes nothing; a call with other
   * options switches patches on or off for graphs built or trained from then on (tests and
   * benchmarks compare against stock DL4J so).
   *
   * @return what is installed now (also {@link #status()})
   */
  public static Status install(Options options) {
    return install(options, null, LOG::warn);
  }

  /**
   * As {@link #install(Options)} as if DL4J were {@code dl4jVersion} (null: the version found on
   * the class path), warning through {@code warn}. A version other than the last one's starts
   * over: the patches of the last one are switched off and this version is checked afresh (and
   * warns through this call's {@code warn}).
   */
  static synchronized Status install(Options options, String dl4jVersion, Consumer<String> warn) {
    Objects.requireNonNull(options, "options");
    if (classPathDl4j == null) {
      classPathDl4j = Dl4jVersions.of("org.deeplearning4j", "deeplearning4j-nn");
      classPathNd4j = Dl4jVersions.of("org.nd4j", "nd4j-api");
    }
    String version = dl4jVersion != null ? dl4jVersion : classPathDl4j;
    if (installer == null || !installer.dl4jVersion().equals(version)) {
      if (installer != null) {
        installer.install(Options.none());
      }
      installer = new PatchInstaller(version, classPathNd4j, EXPECTED_VERSION, lookups(), warn);
    }
    PatchInstaller.Installation now = installer.install(options);
    if (now != current) {
      current = now;
      // DEBUG: a command's console shows only what needs attention (a fallback warns); each
      // training stage records the status in its manifest (details.dl4j_patches).
      LOG.debug("semisup: {}", now.status().summary());
    }
    return now.status();
  }

  /** What is installed now; every patch {@link State#OFF} before the first {@link #install}. */
  public static Status status() {
    return current.status();
  }

  /** The installed patches' objects, for {@link TrainingKernels}. */
  static PatchInstaller.Installation current() {
    return current;
  }

  /** Whether {@link FastRelu} was ever switched on in this JVM, so graphs may carry it. */
  static boolean fastReluLinked() {
    return fastReluLinked;
  }

  /**
   * Each patch's reflective lookups, run the first time it is switched on. Lambdas, not method
   * references: a patch class is loaded only when its lookup runs, inside the installer's guard.
   */
  static Map<Patch, PatchInstaller.Lookup> lookups() {
    Map<Patch, PatchInstaller.Lookup> m = new EnumMap<>(Patch.class);
    m.put(Patch.FAST_BATCH_NORM, () -> FastBatchNorm.lookUp());
    m.put(Patch.FAST_CONVOLUTION, () -> FastConvolution.lookUp());
    m.put(Patch.FAST_RELU, () -> {
      PatchInstaller.Found found = FastRelu.lookUp();
      fastReluLinked = true;
      return found;
    });
    m.put(Patch.NATIVE_HELPERS, () -> NativeHelpers.lookUp());
    return m;
  }
}
