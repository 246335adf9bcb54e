package io.semisup.core.dedup;

/**
 * Exact nearest neighbour by inner product of L2-normalised vectors (cosine similarity), the
 * leak-removal search of {@code dedup}: every pool image against every reference (evaluation or
 * labelled) image, in blocks of {@value #BLOCK} references so that a block stays in the CPU
 * cache while the queries stream past it. The references are one dense array: 10^5 x 128 floats
 * is 51 MB, small enough to broadcast to every Spark executor.
 *
 * <p>Why exact here: the reference set is small and fixed, a missed copy of a test image is the
 * failure that matters, and the cost is linear in the pool (measured in {@code bench dedup}).
 * Immutable and thread-safe.
 */
public final class ExactSearch implements java.io.Serializable {

  private static final long serialVersionUID = 1L;

  /** References per block. */
  static final int BLOCK = 512;

  private final float[] refs;
  private final int n;
  private final int dim;

  /** A search over these references (L2-normalised rows of equal length; copied). */
  public ExactSearch(float[][] references) {
    if (references.length == 0) {
      throw new IllegalArgumentException("Cannot search an empty reference set");
    }
    dim = references[0].length;
    n = references.length;
    refs = new float[n * dim];
    for (int i = 0; i < n; i++) {
      if (references[i].length != dim) {
        throw new IllegalArgumentException("Cannot search references of " + references[i].length
            + " and " + dim + " dimensions");
      }
      System.arraycopy(references[i], 0, refs, i * dim, dim);
    }
  }

  /** Number of references. */
  public int size() {
    return n;
  }

  /** Dimensions of the vectors. */
  public int dim() {
    return dim;
  }

  /** The best reference of one query: its index and the similarity. */
  public record Match(int index, float similarity) {}

  /** The best reference of each query (ties: the lowest index). */
  public Match[] best(float[][] queries) {
    int q = queries.length;
    int[] bestIdx = new int[q];
    float[] bestSim = new float[q];
    java.util.Arrays.fill(bestSim, Float.NEGATIVE_INFINITY);
    for (float[] v : queries) {
      if (v.length != dim) {
        throw new IllegalArgumentException("Cannot search a query of " + v.length
            + " dimensions among references of " + dim);
      }
    }
    for (int b0 = 0; b0 < n; b0 += BLOCK) {
      int b1 = Math.min(n, b0 + BLOCK);
      for (int i = 0; i < q; i++) {
        float[] v = queries[i];
        float best = bestSim[i];
        int arg = bestIdx[i];
        for (int r = b0; r < b1; r++) {
          int off = r * dim;
          float s = 0;
          for (int k = 0; k < dim; k++) {
            s += v[k] * refs[off + k];
          }
          if (s > best) {
            best = s;
            arg = r;
          }
        }
        bestSim[i] = best;
        bestIdx[i] = arg;
      }
    }
    Match[] out = new Match[q];
    for (int i = 0; i < q; i++) {
      out[i] = new Match(bestIdx[i], bestSim[i]);
    }
    return out;
  }
}
