package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.dedup.Calibration;
import io.semisup.core.dedup.CopyAlterations;
import io.semisup.core.dedup.Embeddings;
import io.semisup.core.dedup.ExactSearch;
import io.semisup.core.mkd.GrayImages;
import io.semisup.core.mkd.NearDuplicateVerifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code bench dedup}'s question on real photographs: does geometric verification (the one
 * {@code dedup.verify} runs) lift precision at equal recall? Fashion-MNIST's 28x28 images have no
 * keypoints, so this part uses {@link PhotoCopySet}: each photo's left part is a reference; the
 * pool holds {@link #COPIES} altered copies of every reference and the altered right part of
 * every photo (a look-alike that is not a copy). The global similarity is the cosine of 32x32
 * mean-removed thumbnails, best over each reference and its mirror: a look-alike-prone global
 * descriptor, as a teacher's embedding is on photos it was not trained for.
 *
 * <p>Photos alternate between calibration (even index, thresholds chosen there) and measurement
 * (odd index). The thresholds: {@code t_r}, the highest one whose calibration recall reaches
 * {@code recallTarget}, and {@code t_p}, the one of highest calibration recall at precision
 * {@code precisionTarget} (as the Fashion-MNIST part picks). On the measured half: global
 * similarity alone at {@code t_r}; the same with every pair from {@code t_r} up verified (recall
 * can only fall, by copies that fail verification: "equal recall" holds when none do); the same
 * with verification only below {@code t_p}, as the stage's band {@code [verify-lower,
 * verify-upper)} would do; and global alone at {@code t_p}, what precision costs without
 * verification.
 */
final class VerifiedDedupOnPhotos {

  /** Altered copies planted per reference. */
  static final int COPIES = 2;

  /** Thumbnail side of the global descriptor. */
  static final int THUMB = 32;

  private VerifiedDedupOnPhotos() {}

  static Map<String, Object> measure(List<PhotoCopySet.Photo> photos, CopyAlterations.Strength strength,
      int minInliers, double recallTarget, double precisionTarget, long seed) {
    int n = photos.size();
    Random rnd = new Random(seed);
    // Pool: copies of reference i at rows i*COPIES.., then the distractor of photo i at n*COPIES+i.
    int poolSize = n * (COPIES + 1);
    byte[][] pool = new byte[poolSize][];
    int[] source = new int[poolSize];
    int[] photoOf = new int[poolSize];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < COPIES; c++) {
        pool[i * COPIES + c] = PhotoCopySet.alter(photos.get(i).reference(), rnd, strength);
        source[i * COPIES + c] = i;
        photoOf[i * COPIES + c] = i;
      }
      pool[n * COPIES + i] = PhotoCopySet.alter(photos.get(i).distractor(), rnd, strength);
      source[n * COPIES + i] = -1;
      photoOf[n * COPIES + i] = i;
    }
    float[][] refs = new float[2 * n][];
    for (int i = 0; i < n; i++) {
      refs[i] = thumbnail(photos.get(i).reference(), false);
      refs[n + i] = thumbnail(photos.get(i).reference(), true);
    }
    float[][] poolVecs = new float[poolSize][];
    for (int k = 0; k < poolSize; k++) {
      poolVecs[k] = thumbnail(pool[k], false);
    }
    ExactSearch.Match[] best = new ExactSearch(Embeddings.pixels(refs)).best(Embeddings.pixels(poolVecs));

    // Every pool image verified against its best reference: the operating points below pick.
    NearDuplicateVerifier verifier = new NearDuplicateVerifier(null, 1000, minInliers, seed);
    int[] inliers = new int[poolSize];
    long t0 = System.nanoTime();
    for (int k = 0; k < poolSize; k++) {
      int r = best[k].index() % n;
      inliers[k] = verifier.verifyMirrored(GrayImages.luma(PhotoCopySet.image(pool[k])),
          GrayImages.luma(PhotoCopySet.image(photos.get(r).reference()))).inliers();
    }
    double msPerPair = (System.nanoTime() - t0) / 1e6 / poolSize;
    List<Calibration.Item> cal = new ArrayList<>();
    List<Integer> calRows = new ArrayList<>();
    List<Integer> evalRows = new ArrayList<>();
    for (int k = 0; k < poolSize; k++) {
      if (photoOf[k] % 2 == 0) {
        cal.add(item(best[k], source[k], n));
        calRows.add(k);
      } else {
        evalRows.add(k);
      }
    }
    Calibration.Item[] calItems = cal.toArray(new Calibration.Item[0]);
    double tr = thresholdForRecall(calItems, recallTarget);
    double tp = Calibration.pick(calItems, precisionTarget).threshold();

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("photos", n);
    out.put("copies", n * COPIES);
    out.put("distractors", n);
    out.put("strength", strength.name());
    out.put("global_descriptor", "pixels-" + THUMB + "x" + THUMB + "+mirrored-references");
    out.put("min_inliers", minInliers);
    out.put("recall_target", recallTarget);
    out.put("threshold_at_recall", round(tr, 4));
    out.put("threshold_at_precision", round(tp, 4));
    Map<String, Map<String, Object>> points = new LinkedHashMap<>();
    points.put("global", point(evalRows, best, source, n, inliers, minInliers, tr, Double.NEGATIVE_INFINITY));
    points.put("global+verify-all", point(evalRows, best, source, n, inliers, minInliers, tr, Double.POSITIVE_INFINITY));
    points.put("global+verify-band", point(evalRows, best, source, n, inliers, minInliers, tr, Math.max(tr, tp)));
    points.put("global-at-precision", point(evalRows, best, source, n, inliers, minInliers, tp, Double.NEGATIVE_INFINITY));
    // Precision at equal recall: the global threshold, read off the measured half's own curve,
    // that recalls as many copies as verification kept (a comparison, not a tuned setting).
    double verifiedRecall = (double) points.get("global+verify-all").get("recall");
    points.put("global-at-verified-recall", point(evalRows, best, source, n, inliers, minInliers,
        thresholdForRecall(evalItems(evalRows, best, source, n), verifiedRecall), Double.NEGATIVE_INFINITY));
    out.put("points", points);
    // How dedup.verify-min-inliers trades recall for precision, on the calibration half only.
    Map<String, Object> sweep = new LinkedHashMap<>();
    for (int m : new int[] {6, 8, 10, 12, 15, 20, 30}) {
      Map<String, Object> p = point(calRows, best, source, n, inliers, m, tr, Double.POSITIVE_INFINITY);
      sweep.put(String.valueOf(m), p.get("recall") + "/" + p.get("precision"));
    }
    out.put("calibration_recall/precision_by_min_inliers", sweep);
    out.put("verify_ms_per_pair", round(msPerPair, 1));
    out.put("inliers", inlierSummary(evalRows, best, source, n, inliers));
    return out;
  }

  private static Calibration.Item[] evalItems(List<Integer> rows, ExactSearch.Match[] best,
      int[] source, int n) {
    return rows.stream().map(k -> item(best[k], source[k], n)).toArray(Calibration.Item[]::new);
  }

  private static Calibration.Item item(ExactSearch.Match m, int source, int n) {
    return new Calibration.Item(m.similarity(), source >= 0, source >= 0 && m.index() % n == source);
  }

  /**
   * Recall and precision on the measured rows: flagged when the similarity reaches
   * {@code threshold} and, below {@code verifyUpper}, verification finds {@code minInliers}.
   */
  private static Map<String, Object> point(List<Integer> rows, ExactSearch.Match[] best, int[] source,
      int n, int[] inliers, int minInliers, double threshold, double verifyUpper) {
    int planted = 0;
    int flagged = 0;
    int tp = 0;
    int verified = 0;
    for (int k : rows) {
      planted += source[k] >= 0 ? 1 : 0;
      float sim = best[k].similarity();
      if (sim < threshold) {
        continue;
      }
      if (sim < verifyUpper) {
        verified++;
        if (inliers[k] < minInliers) {
          continue;
        }
      }
      flagged++;
      tp += source[k] >= 0 && best[k].index() % n == source[k] ? 1 : 0;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threshold", round(threshold, 4));
    m.put("recall", round(planted == 0 ? 0 : tp / (double) planted, 4));
    m.put("precision", round(flagged == 0 ? 1 : tp / (double) flagged, 4));
    m.put("flagged", flagged);
    m.put("verified_pairs", verified);
    return m;
  }

  /** How many inliers copies (matched to their source) and look-alikes get, measured half. */
  private static Map<String, Object> inlierSummary(List<Integer> rows, ExactSearch.Match[] best,
      int[] source, int n, int[] inliers) {
    List<Integer> copies = new ArrayList<>();
    List<Integer> others = new ArrayList<>();
    for (int k : rows) {
      boolean right = source[k] >= 0 && best[k].index() % n == source[k];
      (right ? copies : others).add(inliers[k]);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("copies_median", median(copies));
    m.put("copies_min", copies.stream().mapToInt(Integer::intValue).min().orElse(0));
    m.put("non_copies_median", median(others));
    m.put("non_copies_max", others.stream().mapToInt(Integer::intValue).max().orElse(0));
    return m;
  }

  private static int median(List<Integer> v) {
    if (v.isEmpty()) {
      return 0;
    }
    List<Integer> s = new ArrayList<>(v);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  /** The highest threshold at which the calibration items' recall reaches {@code target}. */
  static double thresholdForRecall(Calibration.Item[] items, double target) {
    int planted = 0;
    List<Float> hits = new ArrayList<>();
    for (Calibration.Item it : items) {
      planted += it.planted() ? 1 : 0;
      if (it.planted() && it.rightSource()) {
        hits.add(it.similarity());
      }
    }
    if (hits.isEmpty()) {
      return 1;
    }
    hits.sort((a, b) -> Float.compare(b, a));
    int needed = Math.min(hits.size(), Math.max(1, (int) Math.ceil(target * planted)));
    return hits.get(needed - 1);
  }

  /** A {@link #THUMB}^2 box-filtered thumbnail of a grey {@link PhotoCopySet#SIDE}^2 picture. */
  static float[] thumbnail(byte[] grey, boolean mirror) {
    int side = PhotoCopySet.SIDE;
    int f = side / THUMB;
    float[] out = new float[THUMB * THUMB];
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        int tx = (mirror ? side - 1 - x : x) / f;
        out[(y / f) * THUMB + tx] += grey[y * side + x] & 0xFF;
      }
    }
    return out;
  }

  /** One line for the console. */
  static String describe(Map<String, Object> m) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "  photos: %s photos, %s copies, %s look-alikes; thresholds %s (recall) %s (precision)%n",
        m.get("photos"), m.get("copies"), m.get("distractors"), m.get("threshold_at_recall"),
        m.get("threshold_at_precision")));
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> points = (Map<String, Map<String, Object>>) m.get("points");
    points.forEach((name, p) -> sb.append(String.format(Locale.ROOT,
        "    %-22s threshold %s: recall %s, precision %s, %s flagged, %s verified%n", name,
        p.get("threshold"), p.get("recall"), p.get("precision"), p.get("flagged"), p.get("verified_pairs"))));
    sb.append("    inliers ").append(m.get("inliers")).append(", ")
        .append(m.get("verify_ms_per_pair")).append(" ms per verified pair; calibration recall/precision by min inliers ")
        .append(m.get("calibration_recall/precision_by_min_inliers"));
    return sb.toString();
  }
}
