package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/**
 * The dedup stage: leak removal (unlabelled images whose teacher embedding matches a labelled or
 * evaluation image) and near-duplicate groups inside the pool (sign random projections).
 */
public record DedupSettings(boolean enabled, double threshold, double pairFloor, boolean pool,
    int lshBits, int lshTables) {

  static final List<Setting> SCHEMA = List.of(
      flag("dedup.enabled", "Run leak removal and in-pool near-duplicate removal before select (off: dedup writes empty tables)."),
      real("dedup.threshold", Range.closed(-1, 1), "Cosine similarity of teacher embeddings at or above which two images are copies."),
      real("dedup.pair-floor", Range.closed(-1, 1), "Pairs from this similarity up to the threshold are written as borderline (kept) for inspection."),
      flag("dedup.pool", "Also remove near-duplicates inside the unlabelled pool, keeping the smallest image_id of each group."),
      integer("dedup.lsh-bits", Range.closed(1, 30), "Sign-random-projection bits per hash table of the in-pool search (more: fewer, purer buckets)."),
      integer("dedup.lsh-tables", Range.closed(1, 64), "Hash tables of the in-pool search (more: higher recall, more comparisons)."));

  static DedupSettings from(SettingsReader r) {
    return new DedupSettings(r.booleanOf("dedup.enabled"), r.doubleOf("dedup.threshold"),
        r.doubleOf("dedup.pair-floor"), r.booleanOf("dedup.pool"), r.intOf("dedup.lsh-bits"),
        r.intOf("dedup.lsh-tables"));
  }
}
