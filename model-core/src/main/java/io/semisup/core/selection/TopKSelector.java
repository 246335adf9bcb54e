package io.semisup.core.selection;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keeps, per class, exactly the first K candidates of {@link Candidate#ORDER} without holding
 * all candidates: the method's per-class top-K over billions of scored images.
 *
 * <p>Each class has a bounded heap whose root is its worst kept candidate, so an offer costs
 * O(log k) and a rejected offer allocates nothing. Selectors built on disjoint parts of the data
 * can be {@link #merge merged}; the result equals the selector built on all the data, whatever
 * the partitioning, because the order is total. Not thread-safe.
 *
 * <p>Each image id should be offered at most once per class (ids are content hashes,
 * de-duplicated upstream); duplicates are kept as separate candidates.
 */
public final class TopKSelector implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int numClasses;
  private final int k;
  /** Per class a binary heap, root (index 0) = the candidate that comes LAST in ORDER. */
  private final Candidate[][] heaps;
  private final int[] sizes;
  private final long[] offered;

  public TopKSelector(int numClasses, int k) {
    if (numClasses <= 0) {
      throw new IllegalArgumentException(
          "Cannot create top-K selector for " + numClasses + " classes: need at least 1");
    }
    if (k <= 0) {
      throw new IllegalArgumentException(
          "Cannot create top-K selector with k=" + k + ": k must be at least 1");
    }
    this.numClasses = numClasses;
    this.k = k;
    this.heaps = new Candidate[numClasses][];
    this.sizes = new int[numClasses];
    this.offered = new long[numClasses];
  }

  public int numClasses() {
    return numClasses;
  }

  public int k() {
    return k;
  }

  /** Proposes an image for a class; kept only while it is among the class's best k. */
  public void offer(int classId, String imageId, float score) {
    checkClass(classId);
    if (imageId == null) {
      throw new IllegalArgumentException("Cannot offer a candidate with null imageId");
    }
    if (Float.isNaN(score)) {
      throw new IllegalArgumentException(
          "Cannot offer " + imageId + " for class " + classId + " with NaN score: the model"
              + " produced NaN. Check the model and its input normalization");
    }
    offered[classId]++;
    insert(classId, imageId, score, null);
  }

  /** Adds another selector's result into this one (in place) and returns this. */
  public TopKSelector merge(TopKSelector other) {
    if (other.numClasses != numClasses || other.k != k) {
      throw new IllegalArgumentException(
          "Cannot merge top-K selectors: this has " + numClasses + " classes, k=" + k
              + ", the other " + other.numClasses + " classes, k=" + other.k
              + ". Build all partial selectors with the same settings");
    }
    if (other == this) {
      throw new IllegalArgumentException("Cannot merge a top-K selector into itself");
    }
    for (int c = 0; c < numClasses; c++) {
      offered[c] += other.offered[c];
      Candidate[] h = other.heaps[c];
      for (int i = 0; i < other.sizes[c]; i++) {
        insert(c, h[i].imageId(), h[i].score(), h[i]);
      }
    }
    return this;
  }

  /** The kept candidates of a class, best first; at most k. */
  public List<Candidate> top(int classId) {
    checkClass(classId);
    int n = sizes[classId];
    if (n == 0) {
      return List.of();
    }
    Candidate[] copy = Arrays.copyOf(heaps[classId], n);
    Arrays.sort(copy, Candidate.ORDER);
    return List.of(copy);
  }

  /** All kept candidates, class by class, each class best first. */
  public List<Candidate> all() {
    List<Candidate> out = new ArrayList<>();
    for (int c = 0; c < numClasses; c++) {
      out.addAll(top(c));
    }
    return out;
  }

  /** How many candidates the class saw, kept or not (including merged selectors). */
  public long offered(int classId) {
    checkClass(classId);
    return offered[classId];
  }

  private void insert(int c, String imageId, float score, Candidate existing) {
    int n = sizes[c];
    Candidate[] h = heaps[c];
    if (n < k) {
      if (h == null || n == h.length) {
        // Grow lazily: most classes in small runs never reach k.
        int cap = h == null ? Math.min(k, 16) : (int) Math.min(k, 2L * h.length);
        h = heaps[c] = h == null ? new Candidate[cap] : Arrays.copyOf(h, cap);
      }
      h[n] = existing != null ? existing : new Candidate(c, imageId, score);
      sizes[c] = n + 1;
      siftUp(h, n);
      return;
    }
    Candidate worst = h[0];
    if (Candidate.compare(score, imageId, worst.score(), worst.imageId()) >= 0) {
      return; // not better than the worst kept one
    }
    h[0] = existing != null ? existing : new Candidate(c, imageId, score);
    siftDown(h, n, 0);
  }

  /** True when a must sit above b in the heap, i.e. a comes later in ORDER. */
  private static boolean above(Candidate a, Candidate b) {
    return Candidate.compare(a.score(), a.imageId(), b.score(), b.imageId()) > 0;
  }

  private static void siftUp(Candidate[] h, int i) {
    Candidate x = h[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!above(x, h[parent])) {
        break;
      }
      h[i] = h[parent];
      i = parent;
    }
    h[i] = x;
  }

  private static void siftDown(Candidate[] h, int n, int i) {
    Candidate x = h[i];
    while (true) {
      int child = 2 * i + 1;
      if (child >= n) {
        break;
      }
      if (child + 1 < n && above(h[child + 1], h[child])) {
        child++;
      }
      if (!above(h[child], x)) {
        break;
      }
      h[i] = h[child];
      i = child;
    }
    h[i] = x;
  }

  private void checkClass(int classId) {
    if (classId < 0 || classId >= numClasses) {
      throw new IllegalArgumentException(
          "Cannot use class " + classId + ": this selector has classes 0.." + (numClasses - 1));
    }
  }
}
