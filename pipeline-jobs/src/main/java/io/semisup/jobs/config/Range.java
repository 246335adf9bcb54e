package io.semisup.jobs.config;

/**
 * The numbers a numeric setting (or each element of a numeric list) accepts: an interval whose
 * ends may be open, closed or unbounded. Declared next to the key so that the check, the error
 * message and the reference table say the same thing.
 */
public record Range(double min, boolean minInclusive, double max, boolean maxInclusive) {

  /** Any number. */
  public static final Range ANY =
      new Range(Double.NEGATIVE_INFINITY, true, Double.POSITIVE_INFINITY, true);

  /** {@code >= min}. */
  public static Range atLeast(double min) {
    return new Range(min, true, Double.POSITIVE_INFINITY, true);
  }

  /** {@code > min}. */
  public static Range above(double min) {
    return new Range(min, false, Double.POSITIVE_INFINITY, true);
  }

  /** {@code [min, max]}. */
  public static Range closed(double min, double max) {
    return new Range(min, true, max, true);
  }

  /** {@code [min, max)}. */
  public static Range closedOpen(double min, double max) {
    return new Range(min, true, max, false);
  }

  /** {@code (min, max]}. */
  public static Range openClosed(double min, double max) {
    return new Range(min, false, max, true);
  }

  public boolean contains(double v) {
    boolean aboveMin = minInclusive ? v >= min : v > min;
    boolean belowMax = maxInclusive ? v <= max : v < max;
    return aboveMin && belowMax;
  }

  /** {@code >= 1}, {@code > 0}, {@code [0, 1]}, or empty for {@link #ANY}. */
  public String describe() {
    boolean lower = min != Double.NEGATIVE_INFINITY;
    boolean upper = max != Double.POSITIVE_INFINITY;
    if (lower && upper) {
      return (minInclusive ? "[" : "(") + format(min) + ", " + format(max) + (maxInclusive ? "]" : ")");
    }
    if (lower) {
      return (minInclusive ? ">= " : "> ") + format(min);
    }
    if (upper) {
      return (maxInclusive ? "<= " : "< ") + format(max);
    }
    return "";
  }

  private static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
