package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/**
 * The dedup stage: leak removal (unlabelled images whose teacher embedding matches a labelled or
 * evaluation image) and near-duplicate groups inside the pool (sign random projections), and the
 * geometric verification of pairs in a band of similarity ({@code dedup.verify*}).
 */
public record DedupSettings(boolean enabled, double threshold, double pairFloor, boolean pool,
    int lshBits, int lshTables, boolean verify, double verifyLower, double verifyUpper,
    int verifyMinInliers) {

  static final List<Setting> SCHEMA = List.of(
      flag("dedup.enabled", "Run leak removal and in-pool near-duplicate removal before select (off: dedup writes empty tables)."),
      real("dedup.threshold", Range.closed(-1, 1), "Cosine similarity of teacher embeddings at or above which two images are copies."),
      real("dedup.pair-floor", Range.closed(-1, 1), "Pairs from this similarity up to the threshold are written as borderline (kept) for inspection."),
      flag("dedup.pool", "Also remove near-duplicates inside the unlabelled pool, keeping the smallest image_id of each group."),
      integer("dedup.lsh-bits", Range.closed(1, 30), "Sign-random-projection bits per hash table of the in-pool search (more: fewer, purer buckets)."),
      integer("dedup.lsh-tables", Range.closed(1, 64), "Hash tables of the in-pool search (more: higher recall, more comparisons)."),
      flag("dedup.verify", "Verify pairs of similarity in [dedup.verify-lower, dedup.verify-upper) geometrically (MKD local descriptors, RANSAC homography); needs photos, not 28x28 images."),
      real("dedup.verify-lower", Range.closed(-1, 1), "Lowest similarity of a verified pair: a verified pair from here up is a copy even below dedup.threshold."),
      real("dedup.verify-upper", Range.closed(-1, 1.01), "Pairs at or above this similarity are not verified: dedup.threshold decides them (above 1: verify every pair from dedup.verify-lower up)."),
      integer("dedup.verify-min-inliers", Range.closed(4, 10000), "Homography inliers from which a verified pair is the same picture."));

  static DedupSettings from(SettingsReader r) {
    return new DedupSettings(r.booleanOf("dedup.enabled"), r.doubleOf("dedup.threshold"),
        r.doubleOf("dedup.pair-floor"), r.booleanOf("dedup.pool"), r.intOf("dedup.lsh-bits"),
        r.intOf("dedup.lsh-tables"), r.booleanOf("dedup.verify"), r.doubleOf("dedup.verify-lower"),
        r.doubleOf("dedup.verify-upper"), r.intOf("dedup.verify-min-inliers"));
  }

  /** Lowest similarity of a leak candidate written to dedup/pairs (verified ones included). */
  public double leakFloor() {
    return verify ? Math.min(pairFloor, verifyLower) : pairFloor;
  }

  /** Lowest similarity of an in-pool pair written to dedup/pairs (verified ones included). */
  public double poolFloor() {
    return verify ? Math.min(threshold, verifyLower) : threshold;
  }
}
