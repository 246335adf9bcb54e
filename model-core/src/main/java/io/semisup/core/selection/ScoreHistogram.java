package io.semisup.core.selection;

import java.io.Serializable;

/**
 * Per-class histograms of candidate scores, so top-K selection over billions of candidates can
 * run in two passes: first merge these small histograms on the driver and derive a per-class
 * score threshold, then keep only candidates at or above it and run the exact
 * {@link TopKSelector} on those few.
 *
 * <p>Softmax scores crowd near 1.0, where the decision between the K-th and the (K+1)-th
 * candidate is made, so bins are uniform in {@code t = -log10(1 - s)} (clipped to [0, 7]) rather
 * than in {@code s}: each bin is a fixed fraction of a decade of {@code 1 - s}.
 *
 * <p>Bin edges are float scores and a score's bin is defined by comparing it with those same
 * floats, so "bin >= b" and "score >= edge[b]" are the same test: a threshold returned by
 * {@link #thresholds} never drops a member of the true top-K, even for scores exactly on an edge.
 * Not thread-safe.
 *
 * <p>Serialized sparsely (only non-empty cells, as varints): a partition's histogram of 1,000
 * classes x 4,096 bins is 32 MB of longs but mostly zeros, and every partition sends one to the
 * driver, where Spark caps the total (spark.driver.maxResultSize, 1 GB by default).
 */
public final class ScoreHistogram implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Decades of {@code 1 - s} resolved; float has ~7 decimal digits near 1.0. */
  static final double MAX_T = 7.0;

  private final int numClasses;
  private final int bins;
  /** edges[b] = smallest score of bin b; edges[0] = 0, non-decreasing. */
  private final float[] edges;
  /** counts[c * bins + b]. */
  private final long[] counts;

  public ScoreHistogram(int numClasses, int bins) {
    if (numClasses <= 0) {
      throw new IllegalArgumentException(
          "Cannot create score histogram for " + numClasses + " classes: need at least 1");
    }
    if (bins < 2) {
      throw new IllegalArgumentException(
          "Cannot create score histogram with " + bins + " bins: need at least 2"
              + " (1000 resolves 0.7% of a decade)");
    }
    if ((long) numClasses * bins > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "Cannot create score histogram of " + numClasses + " classes x " + bins
              + " bins: too many cells. Use fewer bins");
    }
    this.numClasses = numClasses;
    this.bins = bins;
    this.edges = edges(bins);
    this.counts = new long[numClasses * bins];
  }

  private static float[] edges(int bins) {
    float[] e = new float[bins];
    for (int b = 1; b < bins; b++) {
      double s = -Math.expm1(-(MAX_T * b / bins) * Math.log(10)); // 1 - 10^-t
      float f = (float) s;
      if (f > s) {
        f = Math.nextDown(f);
      }
      e[b] = Math.max(f, e[b - 1]);
    }
    return e;
  }

  public int numClasses() {
    return numClasses;
  }

  public int bins() {
    return bins;
  }

  /** Lower score edge of bin b (a copy is not needed: floats are immutable). */
  public float edge(int bin) {
    return edges[bin];
  }

  /** Counts one candidate; scores must be probabilities in [0, 1]. */
  public void add(int classId, float score) {
    checkClass(classId);
    counts[classId * bins + bin(score)]++;
  }

  /** The bin holding a score: the largest b with {@code score >= edge(b)}. */
  public int bin(float score) {
    if (!(score >= 0f && score <= 1f)) {
      throw new IllegalArgumentException(
          "Cannot bin score " + score + ": scores must be probabilities in [0, 1]."
              + " Check that the model ends with a softmax");
    }
    double t = -Math.log10(1.0 - score);
    int b = t >= MAX_T ? bins - 1 : (int) (t / MAX_T * bins);
    if (b >= bins) {
      b = bins - 1;
    }
    // The formula is only a guess near edges; the float edges decide.
    while (b + 1 < bins && score >= edges[b + 1]) {
      b++;
    }
    while (b > 0 && score < edges[b]) {
      b--;
    }
    return b;
  }

  /** Adds another histogram's counts into this one (in place) and returns this. */
  public ScoreHistogram merge(ScoreHistogram other) {
    if (other.numClasses != numClasses || other.bins != bins) {
      throw new IllegalArgumentException(
          "Cannot merge score histograms: this has " + numClasses + " classes x " + bins
              + " bins, the other " + other.numClasses + " x " + other.bins
              + ". Build all partial histograms with the same settings");
    }
    if (other == this) {
      throw new IllegalArgumentException("Cannot merge a score histogram into itself");
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    return this;
  }

  /** Number of candidates counted for a class. */
  public long count(int classId) {
    checkClass(classId);
    long n = 0;
    for (int b = 0, base = classId * bins; b < bins; b++) {
      n += counts[base + b];
    }
    return n;
  }

  /** Number of candidates of a class in one bin. */
  public long count(int classId, int bin) {
    checkClass(classId);
    return counts[classId * bins + bin];
  }

  /**
   * Per class, the largest bin edge such that at least k candidates score {@code >=} it; 0 (keep
   * all) for a class with fewer than k candidates. Keeping {@code score >= threshold[c]} keeps
   * every member of the class's true top-k.
   */
  public float[] thresholds(int k) {
    if (k <= 0) {
      throw new IllegalArgumentException(
          "Cannot compute thresholds for k=" + k + ": k must be at least 1");
    }
    float[] out = new float[numClasses];
    for (int c = 0; c < numClasses; c++) {
      int base = c * bins;
      long cum = 0;
      for (int b = bins - 1; b >= 0; b--) {
        cum += counts[base + b];
        if (cum >= k) {
          out[c] = edges[b];
          break;
        }
      }
    }
    return out;
  }

  /**
   * The largest bin edge such that at least n candidates of all classes together score {@code >=}
   * it (0, keep all, when there are fewer): one confidence threshold for every class, the
   * alternative to balanced top-K that the paper compares against.
   */
  public float globalThreshold(long n) {
    if (n <= 0) {
      throw new IllegalArgumentException(
          "Cannot compute a global threshold for n=" + n + ": n must be at least 1");
    }
    long cum = 0;
    for (int b = bins - 1; b >= 0; b--) {
      for (int c = 0; c < numClasses; c++) {
        cum += counts[c * bins + b];
      }
      if (cum >= n) {
        return edges[b];
      }
    }
    return 0f;
  }

  /**
   * How many candidates {@code score >= thresholds[c]} keeps over all classes: exact for
   * thresholds from {@link #thresholds} (bin edges), an upper bound for other values.
   */
  public long keptAbove(float[] thresholds) {
    if (thresholds.length != numClasses) {
      throw new IllegalArgumentException(
          "Cannot count kept candidates: got " + thresholds.length + " thresholds for "
              + numClasses + " classes");
    }
    long kept = 0;
    for (int c = 0; c < numClasses; c++) {
      int base = c * bins;
      float thr = thresholds[c];
      for (int b = bins - 1; b >= 0; b--) {
        // Bin b holds scores in [edges[b], edges[b+1]) (last bin: up to 1.0).
        boolean mayPass = b == bins - 1 || edges[b + 1] > thr;
        if (!mayPass) {
          break;
        }
        kept += counts[base + b];
      }
    }
    return kept;
  }

  /** Java serialization writes this compact form instead of the dense counts. */
  private Object writeReplace() {
    return new Sparse(this);
  }

  private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
    throw new java.io.InvalidObjectException("ScoreHistogram is serialized through its Sparse form");
  }

  /** Non-empty cells as (index gap, count) varint pairs. */
  private static final class Sparse implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int numClasses;
    private final int bins;
    private final byte[] cells;

    Sparse(ScoreHistogram h) {
      numClasses = h.numClasses;
      bins = h.bins;
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      int last = -1;
      for (int i = 0; i < h.counts.length; i++) {
        if (h.counts[i] != 0) {
          writeVarint(out, i - last);
          writeVarint(out, h.counts[i]);
          last = i;
        }
      }
      cells = out.toByteArray();
    }

    private Object readResolve() throws java.io.ObjectStreamException {
      ScoreHistogram h = new ScoreHistogram(numClasses, bins);
      int[] pos = {0};
      int i = -1;
      while (pos[0] < cells.length) {
        i += (int) readVarint(cells, pos);
        long n = readVarint(cells, pos);
        if (i >= h.counts.length || n <= 0) {
          throw new java.io.InvalidObjectException("Cannot read score histogram: corrupt cell " + i);
        }
        h.counts[i] = n;
      }
      return h;
    }

    private static void writeVarint(java.io.ByteArrayOutputStream out, long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    private static long readVarint(byte[] b, int[] pos) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        byte x = b[pos[0]++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return v;
        }
      }
    }
  }

  private void checkClass(int classId) {
    if (classId < 0 || classId >= numClasses) {
      throw new IllegalArgumentException(
          "Cannot use class " + classId + ": this histogram has classes 0.." + (numClasses - 1));
    }
  }
}
