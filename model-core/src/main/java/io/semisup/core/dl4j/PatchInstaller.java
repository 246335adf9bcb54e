package io.semisup.core.dl4j;

import io.semisup.core.dl4j.Dl4jPatches.Options;
import io.semisup.core.dl4j.Dl4jPatches.Patch;
import io.semisup.core.dl4j.Dl4jPatches.PatchStatus;
import io.semisup.core.dl4j.Dl4jPatches.State;
import io.semisup.core.dl4j.Dl4jPatches.Status;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Decides, for one DL4J version, which patches are on: the version check, each patch's lookups
 * (run once, the first time it is switched on) and the warning lines when something does not
 * match. {@link Dl4jPatches} holds the one instance of the JVM; tests make their own.
 */
final class PatchInstaller {

  /** One patch's reflective lookups and link checks; any exception or linkage error means stock DL4J. */
  @FunctionalInterface
  interface Lookup {
    Found lookUp() throws Exception;
  }

  /** A patch whose internals were found. */
  interface Found {
    /** Called when the patch goes on ({@code true}) or off in this JVM. */
    default void switched(boolean on) {}

    /** What {@link Status} says of it when on (empty for nothing). */
    default String detail() {
      return "";
    }
  }

  /** What is installed: the status and the found objects of the patches that are on. */
  record Installation(Status status, Map<Patch, Found> on) {

    static final Installation NONE = new Installation(notInstalled(), Map.of());

    Installation {
      on = Collections.unmodifiableMap(on.isEmpty() ? Map.of() : new EnumMap<>(on));
    }

    private static Status notInstalled() {
      Map<Patch, PatchStatus> m = new EnumMap<>(Patch.class);
      for (Patch p : Patch.values()) {
        m.put(p, new PatchStatus(State.OFF, "not installed"));
      }
      return new Status("not checked", "not checked", Options.none(), m);
    }
  }

  private final String dl4jVersion;
  private final String nd4jVersion;
  private final String expectedVersion;
  private final Map<Patch, Lookup> lookups;
  private final Consumer<String> warn;
  private final Map<Patch, Found> found = new EnumMap<>(Patch.class);
  private final Map<Patch, String> failed = new EnumMap<>(Patch.class);
  private final Map<Patch, Integer> lookupsRun = new EnumMap<>(Patch.class);
  private boolean versionWarned;
  private Installation current;

  PatchInstaller(String dl4jVersion, String nd4jVersion, String expectedVersion,
      Map<Patch, Lookup> lookups, Consumer<String> warn) {
    this.dl4jVersion = dl4jVersion;
    this.nd4jVersion = nd4jVersion;
    this.expectedVersion = expectedVersion;
    this.lookups = new EnumMap<>(Patch.class);
    this.lookups.putAll(lookups);
    this.warn = warn;
  }

  String dl4jVersion() {
    return dl4jVersion;
  }

  /** How many times the lookups of {@code patch} ran (at most once). */
  synchronized int lookupsRun(Patch patch) {
    return lookupsRun.getOrDefault(patch, 0);
  }

  /** Switches on what {@code options} asks for and DL4J allows; the rest is stock DL4J. */
  synchronized Installation install(Options options) {
    if (current != null && current.status().options().equals(options)) {
      return current;
    }
    String mismatch = versionMismatch();
    Map<Patch, PatchStatus> states = new EnumMap<>(Patch.class);
    Map<Patch, Found> on = new EnumMap<>(Patch.class);
    for (Patch p : Patch.values()) {
      if (!options.enabled(p)) {
        states.put(p, new PatchStatus(State.OFF, "switched off"));
      } else if (mismatch != null) {
        states.put(p, new PatchStatus(State.FELL_BACK, "DL4J version"));
        if (!versionWarned) {
          versionWarned = true;
          warn.accept("semisup: " + mismatch + "; training uses stock DL4J (slower)");
        }
      } else if (find(p) == null) {
        states.put(p, new PatchStatus(State.FELL_BACK, failed.get(p)));
      } else {
        on.put(p, found.get(p));
      }
    }
    for (Map.Entry<Patch, Found> e : found.entrySet()) {
      boolean was = current != null && current.on().containsKey(e.getKey());
      boolean is = on.containsKey(e.getKey());
      if (was != is) {
        e.getValue().switched(is);
      }
    }
    on.forEach((p, f) -> states.put(p, new PatchStatus(State.ON, f.detail())));
    current = new Installation(new Status(dl4jVersion, nd4jVersion, options, states), on);
    return current;
  }

  /** Why the versions do not match, or null when they do. */
  private String versionMismatch() {
    if (!expectedVersion.equals(dl4jVersion)) {
      return "DL4J " + dl4jVersion + " is not the " + expectedVersion
          + " the fast kernels were written for";
    }
    if (!expectedVersion.equals(nd4jVersion)) {
      return "ND4J " + nd4jVersion + " is not the " + expectedVersion
          + " the fast kernels were written for";
    }
    return null;
  }

  /** The patch's found object, running its lookups the first time; null (and one warning) if they fail. */
  private Found find(Patch p) {
    if (found.containsKey(p) || failed.containsKey(p)) {
      return found.get(p);
    }
    lookupsRun.merge(p, 1, Integer::sum);
    try {
      found.put(p, lookups.get(p).lookUp());
    } catch (Exception | LinkageError e) {
      String why = e.getClass().getSimpleName() + ": " + e.getMessage();
      failed.put(p, why);
      warn.accept("semisup: cannot install " + p.switchName() + " on DL4J " + dl4jVersion + " ("
          + why + "); training uses stock DL4J for it (slower)");
    }
    return found.get(p);
  }
}
