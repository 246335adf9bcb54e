package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.dedup.CopyAlterations;
import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.bench.PhotoCopySet;
import io.semisup.jobs.config.DedupSettings;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dedup's verification on a real photograph (opencv-doc's aero1.jpg): an altered copy of its
 * left part in the verified band becomes a leak, and a second copy in the pool a near-duplicate of
 * the first; its right part (same scene, no shared pixel) stays borderline, also when it was
 * above dedup.threshold; pairs outside the band keep their verdict
 * unverified; the result has dedup/pairs' schema, with verification off too; a changed verify
 * setting makes dedup stale.
 */
class PairVerificationTest extends SparkTestBase {

  static final Path DATA = Path.of("/usr/share/doc/opencv-doc/examples/data");

  @TempDir Path root;

  private static final StructType IMAGES =
      new StructType().add("image_id", DataTypes.StringType).add("bytes", DataTypes.BinaryType);

  @Test
  void verifiedCopyBecomesALeakAndALookAlikeDoesNot() throws Exception {
    Prerequisites.require(Files.exists(DATA.resolve("aero1.jpg")), "opencv-doc's example photos", "opencv-doc");
    PhotoCopySet.Photo photo = PhotoCopySet.of("aero1.jpg", ImageIO.read(DATA.resolve("aero1.jpg").toFile()));
    byte[] copy = PhotoCopySet.alter(photo.reference(), new Random(7), CopyAlterations.Strength.STRONG);
    byte[] lookAlike = PhotoCopySet.alter(photo.distractor(), new Random(8), CopyAlterations.Strength.STRONG);
    byte[] copy2 = PhotoCopySet.alter(photo.reference(), new Random(9), CopyAlterations.Strength.STRONG);
    Dataset<Row> images = spark.createDataFrame(List.of(
        RowFactory.create("ref", PhotoCopySet.png(photo.reference())),
        RowFactory.create("copy", PhotoCopySet.png(copy)),
        RowFactory.create("look-alike", PhotoCopySet.png(lookAlike)),
        RowFactory.create("copy2", PhotoCopySet.png(copy2))), IMAGES);
    Dataset<Row> candidates = spark.createDataFrame(List.of(
        RowFactory.create("copy", "ref", Tables.VAL, 0.92f, DedupStage.BORDERLINE),
        RowFactory.create("look-alike", "ref", Tables.VAL, 0.96f, DedupStage.LEAK),
        RowFactory.create("far-above", "ref", Tables.VAL, 0.995f, DedupStage.LEAK),
        RowFactory.create("below", "ref", Tables.VAL, 0.85f, DedupStage.BORDERLINE),
        // in the pool: a second copy of the copy's source, and the look-alike of the copy
        RowFactory.create("copy2", "copy", Tables.UNLABELLED, 0.91f, DedupStage.BORDERLINE),
        RowFactory.create("look-alike", "copy", Tables.UNLABELLED, 0.93f, DedupStage.BORDERLINE)),
        PairVerification.CANDIDATES);
    DedupSettings s = new DedupSettings(true, 0.95, 0.8, true, 12, 8, true, 0.9, 0.99, 15);

    long t0 = System.nanoTime();
    Dataset<Row> pairs = PairVerification.apply(spark, candidates, images, s);
    org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(root.toUri());
    Tables.DEDUP_PAIRS.write(pairs, out);
    System.out.printf("verification: verified and written in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    Map<String, Row> byImage = new HashMap<>();
    for (Row r : Tables.DEDUP_PAIRS.readFrom(spark, out).collectAsList()) {
      byImage.put(r.getString(0) + (r.getString(2).equals(Tables.UNLABELLED) ? " in pool" : ""), r);
    }
    System.out.printf("verification: copy %s inliers, look-alike %s; in the pool %s and %s%n",
        byImage.get("copy").get(6), byImage.get("look-alike").get(6),
        byImage.get("copy2 in pool").get(6), byImage.get("look-alike in pool").get(6));

    assertThat(byImage).hasSize(6);
    Row c = byImage.get("copy");
    assertThat(c.getString(4)).isEqualTo(DedupStage.LEAK);
    assertThat(c.getString(5)).isEqualTo(PairVerification.MATCH);
    assertThat(c.getInt(6)).isGreaterThanOrEqualTo(15);
    Row l = byImage.get("look-alike");
    assertThat(l.getString(4)).isEqualTo(DedupStage.BORDERLINE);
    assertThat(l.getString(5)).isEqualTo(PairVerification.NO_MATCH);
    assertThat(l.getInt(6)).isLessThan(15);
    for (String unverified : new String[] {"far-above", "below"}) {
      Row u = byImage.get(unverified);
      assertThat(u.isNullAt(5)).isTrue();
      assertThat(u.isNullAt(6)).isTrue();
    }
    assertThat(byImage.get("far-above").getString(4)).isEqualTo(DedupStage.LEAK);
    assertThat(byImage.get("below").getString(4)).isEqualTo(DedupStage.BORDERLINE);
    Row pooled = byImage.get("copy2 in pool");
    assertThat(pooled.getString(4)).isEqualTo(DedupStage.NEAR_DUPLICATE);
    assertThat(pooled.getString(5)).isEqualTo(PairVerification.MATCH);
    Row pooledLookAlike = byImage.get("look-alike in pool");
    assertThat(pooledLookAlike.getString(4)).isEqualTo(DedupStage.BORDERLINE);
    assertThat(pooledLookAlike.getString(5)).isEqualTo(PairVerification.NO_MATCH);

    // Verification off: the same table, every verdict as the searches gave it, both fields null.
    DedupSettings off = new DedupSettings(true, 0.95, 0.8, true, 12, 8, false, 0.9, 0.99, 15);
    org.apache.hadoop.fs.Path outOff = new org.apache.hadoop.fs.Path(root.resolve("off").toUri());
    Tables.DEDUP_PAIRS.write(PairVerification.apply(spark, candidates, images, off), outOff);
    List<Row> unverified = Tables.DEDUP_PAIRS.readFrom(spark, outOff).collectAsList();
    assertThat(unverified).hasSize(6).allSatisfy(r -> {
      assertThat(r.isNullAt(5)).isTrue();
      assertThat(r.isNullAt(6)).isTrue();
    });
    assertThat(unverified).filteredOn(r -> r.getString(0).equals("look-alike") && r.getString(2).equals(Tables.VAL))
        .singleElement().satisfies(r -> assertThat(r.getString(4)).isEqualTo(DedupStage.LEAK));
  }

  @Test
  void aChangedVerifySettingMakesDedupStale() {
    DedupStage dedup = new DedupStage();
    JsonNode recorded = StageIdentity.of(context(root, "v").config(), dedup.configKeys()).settingsJson();
    assertThat(StageIdentity.of(context(root, "v", "dedup.verify-min-inliers=20").config(), dedup.configKeys())
        .differences(recorded)).containsExactly("dedup.verify-min-inliers changed (15 -> 20)");
    assertThat(StageIdentity.of(context(root, "v", "dedup.verify=true").config(), dedup.configKeys())
        .differences(recorded)).containsExactly("dedup.verify changed (false -> true)");
    assertThatThrownBy(() -> context(root, "v", "dedup.verify-lower=0.99", "dedup.verify-upper=0.95"))
        .hasMessageContaining("dedup.verify-lower");
  }
}
