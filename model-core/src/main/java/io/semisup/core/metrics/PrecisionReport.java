package io.semisup.core.metrics;

import java.io.Serializable;

/**
 * How often the teacher's selection assigns an image to its true class, overall and per class.
 * Measured on labelled data posing as unlabelled, it shows whether top-K selection yields clean
 * pseudo-labels and which classes are polluted. Mergeable; not thread-safe.
 */
public final class PrecisionReport implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long[] assigned;
  private final long[] correct;

  public PrecisionReport(int numClasses) {
    if (numClasses <= 0) {
      throw new IllegalArgumentException(
          "Cannot create precision report for " + numClasses + " classes: need at least 1");
    }
    assigned = new long[numClasses];
    correct = new long[numClasses];
  }

  public int numClasses() {
    return assigned.length;
  }

  /** Records one selected image: the class it was assigned to and its true class. */
  public void add(int assignedClass, int trueClass) {
    check(assignedClass, "assigned");
    check(trueClass, "true");
    assigned[assignedClass]++;
    if (assignedClass == trueClass) {
      correct[assignedClass]++;
    }
  }

  /** Correct assignments over all assignments; NaN when none. */
  public double overall() {
    long a = 0;
    long c = 0;
    for (int i = 0; i < assigned.length; i++) {
      a += assigned[i];
      c += correct[i];
    }
    return a == 0 ? Double.NaN : (double) c / a;
  }

  /** Precision of one class; NaN when nothing was assigned to it. */
  public double precision(int classId) {
    check(classId, "class");
    return assigned[classId] == 0 ? Double.NaN : (double) correct[classId] / assigned[classId];
  }

  public long assigned(int classId) {
    check(classId, "class");
    return assigned[classId];
  }

  public long correct(int classId) {
    check(classId, "class");
    return correct[classId];
  }

  /** Adds another report's counts into this one (in place) and returns this. */
  public PrecisionReport merge(PrecisionReport o) {
    if (o.assigned.length != assigned.length) {
      throw new IllegalArgumentException(
          "Cannot merge precision reports of " + assigned.length + " and " + o.assigned.length
              + " classes. Build all partial reports with the same number of classes");
    }
    for (int i = 0; i < assigned.length; i++) {
      assigned[i] += o.assigned[i];
      correct[i] += o.correct[i];
    }
    return this;
  }

  private void check(int classId, String what) {
    if (classId < 0 || classId >= assigned.length) {
      throw new IllegalArgumentException(
          "Cannot use " + what + " class " + classId + ": this report has classes 0.."
              + (assigned.length - 1));
    }
  }

  @Override
  public String toString() {
    return String.format("precision=%.4f over %d classes", overall(), assigned.length);
  }
}
