package io.semisup.jobs.bench;

import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * A teacher's scores table ({@link Tables#SCORES}) for {@code images} unlabelled images, made up
 * but with the proportions selection faces at scale, so {@code bench select} can run the product's
 * selection on 10^6..10^9 images without scoring them.
 *
 * <p>Image i's row depends only on (seed, i), so any partitioning gives the same table:
 *
 * <ul>
 *   <li>{@code image_id}: 64 hex characters like the product's SHA-256 ids, unique (the first 16
 *       are a bijection of i), in no particular order.
 *   <li>{@code classes}: {@code topP} distinct classes drawn from a Zipf(1) law over the classes
 *       (class c has weight 1/(c+1)): a few popular classes, many rare ones. The first draw is the
 *       top-1 class.
 *   <li>{@code probs}: descending. The top-1 score is {@code 1 - 10^-t} with t exponential of mean
 *       1 (median 0.8, like a good classifier on natural images); in float, about 0.06% of images
 *       round to exactly 1.0 and many more share the few floats just below it, so ties are real.
 *       The rest of the mass is split over the other classes by normalised exponential draws.
 *   <li>{@code tieLevels > 0} rounds every score to a multiple of 1/tieLevels (tests: many ties).
 * </ul>
 */
public final class SyntheticScores {

  private static final Logger log = LoggerFactory.getLogger(SyntheticScores.class);

  /** What to generate; {@link #dirName()} names the materialised table after it. */
  public record Spec(long images, int classes, int topP, long seed, int tieLevels)
      implements java.io.Serializable {
    public Spec {
      if (images <= 0 || classes < topP || topP <= 0 || tieLevels < 0) {
        throw new IllegalArgumentException(
            "Cannot generate scores for images=" + images + ", classes=" + classes + ", top-p=" + topP
                + ", tie-levels=" + tieLevels + ": need images > 0, 0 < top-p <= classes, tie-levels >= 0");
      }
    }

    /** Version the name with the generator: change "v1" when the rows it makes change. */
    public String dirName() {
      return "scores-v1-n" + images + "-c" + classes + "-p" + topP + "-s" + seed
          + (tieLevels > 0 ? "-t" + tieLevels : "");
    }
  }

  private SyntheticScores() {}

  /** The table, generated on the fly in {@code partitions} partitions. */
  public static Dataset<Row> generate(SparkSession spark, Spec spec, int partitions) {
    return spark.range(0, spec.images(), 1, partitions)
        .mapPartitions(new Rows(spec), Encoders.row(Tables.SCORES.schema()));
  }

  /**
   * Writes the table as Parquet under {@code dir/spec.dirName()} unless a complete copy is already
   * there (Spark's {@code _SUCCESS}), and returns its path. Files of about a million rows
   * (about 100 MB), so a scan has enough splits for every core.
   */
  public static String materialize(SparkSession spark, Spec spec, String dir) throws IOException {
    Path out = new Path(dir, spec.dirName());
    FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
    if (fs.exists(new Path(out, "_SUCCESS"))) {
      log.info("[bench select] reusing synthetic scores {}", out);
      return out.toString();
    }
    int files = (int) Math.max(2, Math.min(100_000, (spec.images() + 999_999) / 1_000_000));
    log.info("[bench select] writing synthetic scores for {} images to {} ({} files, untimed)...",
        spec.images(), out, files);
    long t0 = System.nanoTime();
    generate(spark, spec, files).write().mode("overwrite").parquet(out.toString());
    log.info("[bench select] wrote synthetic scores in {} s", String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    return out.toString();
  }

  /** Row i of the table (also used by tests to check determinism). */
  public static Row row(Spec spec, long i, double[] cdf) {
    SplittableRandom rnd = new SplittableRandom(mix(spec.seed() ^ mix(i)));
    int p = spec.topP();
    List<Integer> classes = new ArrayList<>(p);
    while (classes.size() < p) {
      int c = zipf(cdf, rnd.nextDouble());
      if (!classes.contains(c)) {
        classes.add(c);
      }
    }
    float[] s = new float[p];
    double t = -Math.log(1 - rnd.nextDouble()); // exponential, mean 1
    double top = -Math.expm1(-t * Math.log(10)); // 1 - 10^-t
    double rest = 1 - top;
    double[] w = new double[p]; // w[0] unused; one extra weight for the classes outside top-P
    double sum = 0;
    for (int j = 1; j < p; j++) {
      w[j] = -Math.log(1 - rnd.nextDouble());
      sum += w[j];
    }
    sum += -Math.log(1 - rnd.nextDouble());
    s[0] = (float) top;
    for (int j = 1; j < p; j++) {
      s[j] = (float) (rest * w[j] / sum);
    }
    if (spec.tieLevels() > 0) {
      for (int j = 0; j < p; j++) {
        s[j] = Math.round(s[j] * spec.tieLevels()) / (float) spec.tieLevels();
      }
    }
    java.util.Arrays.sort(s); // ascending; read back descending below
    List<Float> probs = new ArrayList<>(p);
    for (int j = p - 1; j >= 0; j--) {
      probs.add(s[j]);
    }
    String id = hex16(mix(i + 0x632BE59BD9B4E019L)) + hex16(rnd.nextLong()) + hex16(rnd.nextLong())
        + hex16(rnd.nextLong());
    String uri = "hdfs:///data/unlabelled/shard-" + (i / 1_000_000) + "/" + i + ".jpg";
    // Scala sequences: what Spark's row encoder takes for array columns.
    return RowFactory.create(id, uri, JavaConverters.asScalaBuffer(classes).toList(),
        JavaConverters.asScalaBuffer(probs).toList(), "synthetic-teacher");
  }

  /** Cumulative Zipf(1) weights of the classes, for {@link #row}. */
  public static double[] zipfCdf(int classes) {
    double[] cdf = new double[classes];
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      sum += 1.0 / (c + 1);
      cdf[c] = sum;
    }
    for (int c = 0; c < classes; c++) {
      cdf[c] /= sum;
    }
    return cdf;
  }

  private static int zipf(double[] cdf, double u) {
    int lo = 0;
    int hi = cdf.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** SplitMix64's finaliser: a bijection of longs that scatters consecutive inputs. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private static String hex16(long v) {
    char[] c = new char[16];
    for (int k = 15; k >= 0; k--) {
      c[k] = HEX[(int) (v & 0xF)];
      v >>>= 4;
    }
    return new String(c);
  }

  /** Turns a partition of {@code spark.range} into rows. */
  private static final class Rows implements MapPartitionsFunction<Long, Row> {
    private final Spec spec;

    Rows(Spec spec) {
      this.spec = spec;
    }

    @Override
    public Iterator<Row> call(Iterator<Long> ids) {
      double[] cdf = zipfCdf(spec.classes());
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return ids.hasNext();
        }

        @Override
        public Row next() {
          if (!ids.hasNext()) {
            throw new NoSuchElementException();
          }
          return row(spec, ids.next(), cdf);
        }
      };
    }
  }
}
