package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.dedup.SignLsh;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.ml.feature.BucketedRandomProjectionLSH;
import org.apache.spark.ml.feature.BucketedRandomProjectionLSHModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * In-pool near-duplicate search of {@code bench dedup}: the pool's pairs of copies of one image,
 * found by {@code dedup}'s sign random projections ({@link SignLsh}, the stage's own code path:
 * bucket, compare inside buckets) against Spark ML's {@link BucketedRandomProjectionLSH}
 * ({@code approxSimilarityJoin}, the baseline the stage must beat) and exact all-pairs search.
 *
 * <p>Every method flags the pairs it finds at or above one similarity threshold, exact search's
 * threshold of precision {@code minPrecision}, so the approximate methods differ only in the
 * pairs they miss: recall at the same precision. Speed is pool images per second on this
 * machine (SignLsh on one thread; Spark on its local master), with the candidate pairs each
 * compared.
 */
final class InPoolSearch {

  private final float[][] vecs;
  private final int[] group;
  private final Set<Long> truth = new HashSet<>();
  /** The pairs exact search flagged at the last threshold ({@link #exact}). */
  private Set<Long> exactFlagged = Set.of();

  /**
   * @param vecs L2-normalised embeddings of the pool
   * @param group for each image the id of its copy group (two or more images), or -1
   */
  InPoolSearch(float[][] vecs, int[] group) {
    this.vecs = vecs;
    this.group = group;
    Map<Integer, List<Integer>> members = new HashMap<>();
    for (int i = 0; i < group.length; i++) {
      if (group[i] >= 0) {
        members.computeIfAbsent(group[i], g -> new ArrayList<>()).add(i);
      }
    }
    for (List<Integer> m : members.values()) {
      for (int a = 0; a < m.size(); a++) {
        for (int b = a + 1; b < m.size(); b++) {
          truth.add(key(m.get(a), m.get(b)));
        }
      }
    }
  }

  int truePairs() {
    return truth.size();
  }

  private static long key(int i, int j) {
    return i < j ? ((long) i << 32) | j : ((long) j << 32) | i;
  }

  /** Exact search's threshold of highest recall at precision >= {@code minPrecision}. */
  float exactThreshold(double minPrecision) {
    // Every pair's similarity, true pairs marked; walked from the most similar down.
    int n = vecs.length;
    long total = (long) n * (n - 1) / 2;
    int keep = (int) Math.min(total, 200_000L);
    float[] top = topSimilarities(keep);
    float floor = top[top.length - 1];
    List<float[]> pairs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        float s = SignLsh.dot(vecs[i], vecs[j]);
        if (s >= floor) {
          pairs.add(new float[] {s, truth.contains(key(i, j)) ? 1 : 0});
        }
      }
    }
    pairs.sort((a, b) -> Float.compare(b[0], a[0]));
    int tp = 0;
    float best = Float.POSITIVE_INFINITY;
    for (int k = 0; k < pairs.size(); k++) {
      tp += pairs.get(k)[1] > 0 ? 1 : 0;
      boolean lastOfTie = k + 1 == pairs.size() || pairs.get(k + 1)[0] < pairs.get(k)[0];
      if (lastOfTie && tp >= minPrecision * (k + 1)) {
        best = pairs.get(k)[0];
      }
    }
    return best;
  }

  /** The {@code k} largest pairwise similarities, descending (a bounded selection). */
  private float[] topSimilarities(int k) {
    java.util.PriorityQueue<Float> heap = new java.util.PriorityQueue<>();
    for (int i = 0; i < vecs.length; i++) {
      for (int j = i + 1; j < vecs.length; j++) {
        float s = SignLsh.dot(vecs[i], vecs[j]);
        if (heap.size() < k) {
          heap.add(s);
        } else if (s > heap.peek()) {
          heap.poll();
          heap.add(s);
        }
      }
    }
    float[] out = new float[heap.size()];
    for (int i = out.length - 1; i >= 0; i--) {
      out[i] = heap.poll();
    }
    return out;
  }

  /** Recall and precision of a set of flagged pairs. */
  private Map<String, Object> outcome(Set<Long> flagged, long candidates, double seconds) {
    int tp = 0;
    for (long p : flagged) {
      tp += truth.contains(p) ? 1 : 0;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("recall", round(truth.isEmpty() ? Double.NaN : tp / (double) truth.size(), 4));
    m.put("precision", round(flagged.isEmpty() ? 1.0 : tp / (double) flagged.size(), 4));
    m.put("flagged", flagged.size());
    int same = 0;
    for (long p : flagged) {
      same += exactFlagged.contains(p) ? 1 : 0;
    }
    // Share of exact search's pairs the method finds: the approximation's own loss.
    m.put("recall_of_exact", round(exactFlagged.isEmpty() ? Double.NaN
        : same / (double) exactFlagged.size(), 4));
    m.put("candidate_pairs", candidates);
    m.put("seconds", round(seconds, 3));
    m.put("images_per_s", round(vecs.length / seconds, 1));
    return m;
  }

  /** All pairs at or above {@code threshold}. */
  Map<String, Object> exact(float threshold) {
    long t0 = System.nanoTime();
    Set<Long> flagged = new HashSet<>();
    for (int i = 0; i < vecs.length; i++) {
      for (int j = i + 1; j < vecs.length; j++) {
        if (SignLsh.dot(vecs[i], vecs[j]) >= threshold) {
          flagged.add(key(i, j));
        }
      }
    }
    long n = vecs.length;
    double seconds = (System.nanoTime() - t0) / 1e9;
    exactFlagged = flagged;
    return outcome(flagged, n * (n - 1) / 2, seconds);
  }

  /** dedup's search: pairs sharing a key in any table, compared exactly (centred on the mean). */
  Map<String, Object> signLsh(float threshold, int tables, int bits, long seed) {
    long t0 = System.nanoTime();
    int dim = vecs[0].length;
    float[] center = new float[dim];
    for (float[] v : vecs) {
      for (int k = 0; k < dim; k++) {
        center[k] += v[k] / vecs.length;
      }
    }
    SignLsh lsh = new SignLsh(dim, tables, bits, center, seed);
    Map<Long, List<Integer>> buckets = new HashMap<>();
    for (int i = 0; i < vecs.length; i++) {
      int[] keys = lsh.keys(vecs[i]);
      for (int t = 0; t < keys.length; t++) {
        buckets.computeIfAbsent(((long) t << 32) | keys[t], x -> new ArrayList<>()).add(i);
      }
    }
    Set<Long> flagged = new HashSet<>();
    long candidates = 0;
    for (List<Integer> b : buckets.values()) {
      for (int x = 0; x < b.size(); x++) {
        for (int y = x + 1; y < b.size(); y++) {
          candidates++;
          if (SignLsh.dot(vecs[b.get(x)], vecs[b.get(y)]) >= threshold) {
            flagged.add(key(b.get(x), b.get(y)));
          }
        }
      }
    }
    return outcome(flagged, candidates, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * Spark ML's bucketed random projections: {@code tables} hash tables of bucket width
   * {@code bucketLength}, {@code approxSimilarityJoin} of the pool with itself at the Euclidean
   * distance of {@code threshold} (unit vectors: d^2 = 2 - 2 cos).
   */
  Map<String, Object> bucketedRandomProjection(SparkSession spark, float threshold, int tables,
      double bucketLength, long seed) {
    StructType schema = new StructType()
        .add("id", DataTypes.IntegerType, false)
        .add("features", SQLDataTypes.VectorType(), false);
    List<Row> rows = new ArrayList<>(vecs.length);
    for (int i = 0; i < vecs.length; i++) {
      double[] d = new double[vecs[i].length];
      for (int k = 0; k < d.length; k++) {
        d[k] = vecs[i][k];
      }
      rows.add(RowFactory.create(i, Vectors.dense(d)));
    }
    Dataset<Row> df = spark.createDataFrame(rows, schema).cache();
    df.count();
    long t0 = System.nanoTime();
    BucketedRandomProjectionLSHModel model = new BucketedRandomProjectionLSH()
        .setInputCol("features").setOutputCol("hashes").setNumHashTables(tables)
        .setBucketLength(bucketLength).setSeed(seed).fit(df);
    double distance = Math.sqrt(Math.max(0, 2 - 2 * (double) threshold));
    List<Row> found = model.approxSimilarityJoin(df, df, distance, "distance")
        .selectExpr("datasetA.id as a", "datasetB.id as b").where("a < b").collectAsList();
    double seconds = (System.nanoTime() - t0) / 1e9;
    Set<Long> flagged = new HashSet<>();
    for (Row r : found) {
      int a = r.getInt(0);
      int b = r.getInt(1);
      // Spark's distance is computed in double; hold it to the same float threshold.
      if (SignLsh.dot(vecs[a], vecs[b]) >= threshold) {
        flagged.add(key(a, b));
      }
    }
    // Candidates: pairs sharing a bucket in some table (what the join compares).
    Dataset<Row> hashed = model.transform(df);
    long candidates = 0;
    Map<String, Long> sizes = new HashMap<>();
    for (Row r : hashed.select("hashes").collectAsList()) {
      List<org.apache.spark.ml.linalg.Vector> hs = r.getList(0);
      for (int t = 0; t < hs.size(); t++) {
        sizes.merge(t + ":" + hs.get(t).apply(0), 1L, Long::sum);
      }
    }
    for (long s : sizes.values()) {
      candidates += s * (s - 1) / 2;
    }
    df.unpersist();
    Map<String, Object> m = outcome(flagged, candidates, seconds);
    m.put("bucket_length", bucketLength);
    return m;
  }

  static String line(String name, Map<String, Object> m) {
    return String.format(Locale.ROOT, "  in-pool %-28s recall %s, precision %s, %s flagged (%s of"
            + " exact search's), %s candidate pairs, %s images/s", name, m.get("recall"),
        m.get("precision"), m.get("flagged"), m.get("recall_of_exact"), m.get("candidate_pairs"),
        m.get("images_per_s"));
  }

  int size() {
    return vecs.length;
  }

  int[] groups() {
    return group;
  }
}
