package io.semisup.core.dedup;

import java.io.Serializable;
import java.util.Random;

/**
 * Sign random projections (Charikar 2002) for cosine similarity: each of {@code tables} hash
 * tables draws {@code bits} random Gaussian hyperplanes, and a vector's key in a table is the
 * bit pattern of which side of each hyperplane it lies on. Two vectors at angle theta share a
 * bit with probability 1 - theta / pi, so near-duplicates (small angles) share a key in at least
 * one table with high probability while unrelated images rarely do. The in-pool search of
 * {@code dedup} compares exactly only images that share a key, which scales linearly with the
 * pool instead of quadratically.
 *
 * <p>The embeddings are centred by {@code center} first (the mean embedding of the pool, or
 * null): pooled ReLU features all lie in the positive orthant, where uncentred hyperplanes
 * through the origin split the data unevenly. Immutable, serializable (shipped to executors).
 */
public final class SignLsh implements Serializable {

  private static final long serialVersionUID = 1L;

  private final int tables;
  private final int bits;
  private final int dim;
  private final float[] planes; // [tables * bits][dim]
  private final float[] center;

  /** Hyperplanes drawn from {@code seed}. */
  public SignLsh(int dim, int tables, int bits, float[] center, long seed) {
    if (dim < 1 || tables < 1 || bits < 1 || bits > 30) {
      throw new IllegalArgumentException("Cannot hash " + dim + " dimensions into " + tables
          + " tables of " + bits + " bits: need dim, tables >= 1 and 1 <= bits <= 30");
    }
    if (center != null && center.length != dim) {
      throw new IllegalArgumentException("Cannot centre " + dim + " dimensions with " + center.length);
    }
    this.tables = tables;
    this.bits = bits;
    this.dim = dim;
    this.center = center == null ? new float[dim] : center.clone();
    Random rnd = new Random(seed);
    planes = new float[tables * bits * dim];
    for (int i = 0; i < planes.length; i++) {
      planes[i] = (float) rnd.nextGaussian();
    }
  }

  /** Number of hash tables. */
  public int tables() {
    return tables;
  }

  /** The vector's key in each table ({@code tables} values, each below {@code 2^bits}). */
  public int[] keys(float[] v) {
    if (v.length != dim) {
      throw new IllegalArgumentException("Cannot hash " + v.length + " dimensions with a " + dim + "-d LSH");
    }
    int[] keys = new int[tables];
    for (int t = 0; t < tables; t++) {
      int key = 0;
      for (int b = 0; b < bits; b++) {
        int off = (t * bits + b) * dim;
        float s = 0;
        for (int k = 0; k < dim; k++) {
          s += (v[k] - center[k]) * planes[off + k];
        }
        key = (key << 1) | (s >= 0 ? 1 : 0);
      }
      keys[t] = key;
    }
    return keys;
  }

  /** Cosine similarity of two L2-normalised vectors. */
  public static float dot(float[] a, float[] b) {
    float s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return s;
  }
}
