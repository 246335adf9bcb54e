package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import boofcv.struct.image.GrayF32;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.mkd.GrayImages;
import io.semisup.core.mkd.NearDuplicateVerifier;
import io.semisup.jobs.config.DedupSettings;
import io.semisup.jobs.tables.Tables;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Dedup's geometric verification (MKD, arXiv:1811.11147): a candidate pair whose global
 * similarity lies in {@code [dedup.verify-lower, dedup.verify-upper)} is decided by
 * {@link NearDuplicateVerifier} on the two images' bytes (SIFT keypoints, MKD descriptors, mutual
 * nearest neighbours with a ratio test, RANSAC homography; also against the mirrored image), so
 * that look-alikes that are not the same picture (another part of the same scene, another photo
 * of the same kind of thing) stop being removed, and copies a little below {@code dedup.threshold}
 * are. A pair with at least {@code dedup.verify-min-inliers} inliers becomes a copy ({@code leak}
 * or {@code near_duplicate} by the split of its match), any other verified pair is kept as
 * {@code borderline}; either way {@code verification} ({@link #MATCH}, {@link #NO_MATCH}) and
 * {@code inliers} record why. Pairs outside the band keep their verdict, with both fields null.
 *
 * <p>Both images' bytes meet on one executor by joins on image ids, never on the driver: the
 * images table is first cut down to the images of band pairs (a semi join), then joined twice,
 * once for each side of a pair. Descriptors are the unwhitened MKD ones: a whitening would have
 * to be learned from keypoint patches of the run's images first, and unwhitened MKD matches
 * nearly as well (docs/results.md, bench mkd). Verdicts are deterministic: each pair gets a
 * verifier whose RANSAC starts from the same seed.
 */
public final class PairVerification {

  /** {@code verification} of a verified pair: same picture / not. */
  public static final String MATCH = "match";
  public static final String NO_MATCH = "no_match";

  /**
   * Longest side an image is scaled down to before keypoints are detected: detail finer than
   * this adds keypoints (time) but not evidence for a copy.
   */
  static final int MAX_SIDE = 512;

  /** Keypoints per image. */
  static final int MAX_KEYPOINTS = 1000;

  /** The pairs the searches produce, before verification: the first five columns of dedup/pairs. */
  public static final StructType CANDIDATES = new StructType(
      java.util.Arrays.copyOf(Tables.DEDUP_PAIRS.schema().fields(), 5));

  private PairVerification() {}

  /** Candidate pairs as dedup/pairs rows without verification (verification off). */
  public static Dataset<Row> unverified(Dataset<Row> candidates) {
    return candidates
        .withColumn("verification", lit(null).cast(DataTypes.StringType))
        .withColumn("inliers", lit(null).cast(DataTypes.IntegerType));
  }

  /**
   * Verifies the band pairs of {@code candidates} ({@link #CANDIDATES} schema) against
   * {@code images} (image_id, bytes) and returns every pair in the dedup/pairs schema.
   */
  public static Dataset<Row> apply(SparkSession spark, Dataset<Row> candidates,
      Dataset<Row> images, DedupSettings s) {
    if (!s.verify()) {
      return unverified(candidates);
    }
    Column inBand = col("similarity").geq(s.verifyLower()).and(col("similarity").lt(s.verifyUpper()));
    Dataset<Row> band = candidates.filter(inBand);
    Dataset<Row> ids = band.select(col("image_id")).union(band.select(col("matched_id")))
        .distinct();
    // One row per id even if an image sat in two splits, so no pair is doubled by the joins.
    Dataset<Row> needed = images.select("image_id", "bytes").join(ids, "image_id")
        .dropDuplicates("image_id");
    Dataset<Row> joined = band
        .join(needed.withColumnRenamed("bytes", "a_bytes"), "image_id")
        .join(needed.withColumnRenamed("image_id", "matched_id").withColumnRenamed("bytes", "b_bytes"),
            "matched_id")
        .select("image_id", "matched_id", "matched_split", "similarity", "verdict", "a_bytes", "b_bytes");
    int minInliers = s.verifyMinInliers();
    JavaRDD<Row> verified = joined.javaRDD().mapPartitions(
        (Iterator<Row> rows) -> verifyPartition(rows, minInliers));
    return unverified(candidates.filter(inBand.unary_$bang()))
        .unionByName(spark.createDataFrame(verified, Tables.DEDUP_PAIRS.schema()));
  }

  private static Iterator<Row> verifyPartition(Iterator<Row> rows, int minInliers) {
    if (!rows.hasNext()) {
      return java.util.Collections.emptyIterator();
    }
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    List<Row> out = new ArrayList<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      // A fresh verifier (RANSAC seeded anew) per pair: a verdict depends on the pair alone, not
      // on which pairs shared its partition before it.
      NearDuplicateVerifier verifier = new NearDuplicateVerifier(null, MAX_KEYPOINTS, minInliers, 1L);
      int inliers = inliers(verifier, decoder, (byte[]) r.get(5), (byte[]) r.get(6));
      boolean same = inliers >= minInliers;
      String split = r.getString(2);
      String verdict = !same ? DedupStage.BORDERLINE
          : Tables.UNLABELLED.equals(split) ? DedupStage.NEAR_DUPLICATE : DedupStage.LEAK;
      out.add(RowFactory.create(r.getString(0), r.getString(1), split, r.getFloat(3), verdict,
          same ? MATCH : NO_MATCH, inliers));
    }
    return out.iterator();
  }

  /** Homography inliers of a pair; 0 when either image does not decode (shard let it in). */
  static int inliers(NearDuplicateVerifier verifier, ImageDecoder decoder, byte[] a, byte[] b) {
    try {
      GrayF32 ga = grey(decoder.decode(a).image());
      GrayF32 gb = grey(decoder.decode(b).image());
      return verifier.verifyMirrored(ga, gb).inliers();
    } catch (ImageRejectedException | RuntimeException e) {
      return 0;
    }
  }

  /** Luma, scaled down (bilinear) to at most {@link #MAX_SIDE} on the longest side. */
  static GrayF32 grey(BufferedImage img) {
    int side = Math.max(img.getWidth(), img.getHeight());
    if (side <= MAX_SIDE) {
      return GrayImages.luma(img);
    }
    double f = MAX_SIDE / (double) side;
    int w = Math.max(1, (int) Math.round(img.getWidth() * f));
    int h = Math.max(1, (int) Math.round(img.getHeight() * f));
    BufferedImage small = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = small.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(img, 0, 0, w, h, null);
    g.dispose();
    return GrayImages.luma(small);
  }
}
