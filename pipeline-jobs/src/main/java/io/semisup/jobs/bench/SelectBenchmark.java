package io.semisup.jobs.bench;

import io.semisup.jobs.spark.TopKPerClass;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bench select}'s measurement, separate from the command line so tests can run it on their
 * own Spark session: the product's selection ({@link TopKPerClass#selectTopK}) and the Spark SQL
 * baseline ({@link SelectBaseline}) on the same materialised synthetic scores, each timed up to
 * its written output, then both outputs compared row for row.
 */
public final class SelectBenchmark {

  private static final Logger log = LoggerFactory.getLogger(SelectBenchmark.class);
  static final String PRODUCT = "bench-select-product";
  static final String BASELINE = "bench-select-baseline";
  private static final int PROGRESS_SECONDS = 20;
  private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();

  /** One benchmark run's settings; {@code k <= 0} means {@code kPerMillion} per 10^6 images. */
  public record Options(
      long images, int classes, int p, int k, double kPerMillion, int bins, long seed, int tieLevels,
      boolean baseline, String dataDir, String workDir) {

    /** K per class: given, or {@code kPerMillion} per million images (at least 1). */
    public int effectiveK() {
      return k > 0 ? k : (int) Math.max(1, Math.round(kPerMillion * images / 1e6));
    }
  }

  /** Outcome of one run: the figures for the JSON line, and whether both methods agreed. */
  public record Outcome(Map<String, Object> figures, Boolean rowsMatch) {}

  private SelectBenchmark() {}

  public static Outcome run(SparkSession spark, Options o) throws Exception {
    int k = o.effectiveK();
    SyntheticScores.Spec spec = new SyntheticScores.Spec(o.images(), o.classes(), o.p(), o.seed(), o.tieLevels());
    String input = SyntheticScores.materialize(spark, spec, o.dataDir());
    Dataset<Row> scores = spark.read().parquet(input);
    warmUp(spark, o, k);
    long candidates = o.images() * o.p();
    SparkContext sc = spark.sparkContext();
    SelectMeter meter = new SelectMeter();
    // Job groups unique to this run: Spark remembers the jobs of earlier runs in the same session.
    String product = PRODUCT + "-" + RUNS.incrementAndGet();
    String baseline = BASELINE + "-" + RUNS.get();
    sc.addSparkListener(meter);
    Map<String, Object> f = new LinkedHashMap<>();
    try {
      String productOut = new Path(o.workDir(), "product").toString();
      String baselineOut = new Path(o.workDir(), "baseline").toString();

      log.info("[bench select] product selection: {} images, {} classes, P={}, K={}, {} bins",
          o.images(), o.classes(), o.p(), k, o.bins());
      sc.setJobGroup(product, "bench select: product", false);
      long t0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      TopKPerClass.Selection sel;
      long pass1;
      try (AutoCloseable ticker = meter.progress(sc, product, PROGRESS_SECONDS)) {
        sel = TopKPerClass.selectTopK(spark, scores, o.classes(), k, o.p(), o.bins());
        pass1 = System.nanoTime();
        sel.ranked().write().mode("overwrite").parquet(productOut);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpuSeconds = (processCpuNanos() - cpu0) / 1e9;
      sc.clearJobGroup();
      SelectMeter.Totals pt = meter.totals(sc, product);
      log.info("[bench select] product: {} s (pass 1 {} s), {} MB shuffled, {} candidates above thresholds",
          fmt(seconds), fmt((pass1 - t0) / 1e9), pt.shuffleBytes() >> 20, sel.aboveThreshold());

      Double baseSeconds = null;
      Double baseCpuSeconds = null;
      SelectMeter.Totals bt = null;
      Boolean windowGroupLimit = null;
      if (o.baseline()) {
        log.info("[bench select] baseline (explode + row_number over a window by class)...");
        Dataset<Row> base = SelectBaseline.select(scores, k, o.p());
        windowGroupLimit = base.queryExecution().executedPlan().toString().contains("WindowGroupLimit");
        sc.setJobGroup(baseline, "bench select: baseline", false);
        long b0 = System.nanoTime();
        long bcpu0 = processCpuNanos();
        try (AutoCloseable ticker = meter.progress(sc, baseline, PROGRESS_SECONDS)) {
          base.write().mode("overwrite").parquet(baselineOut);
        }
        baseSeconds = (System.nanoTime() - b0) / 1e9;
        baseCpuSeconds = (processCpuNanos() - bcpu0) / 1e9;
        sc.clearJobGroup();
        bt = meter.totals(sc, baseline);
        log.info("[bench select] baseline: {} s, {} MB shuffled", fmt(baseSeconds), bt.shuffleBytes() >> 20);
      }

      // Untimed checks: the product selects min(K, candidates) per class, and the same rows as the baseline.
      long expected = 0;
      for (int c = 0; c < o.classes(); c++) {
        expected += Math.min(k, sel.histogram().count(c));
      }
      Dataset<Row> got = spark.read().parquet(productOut);
      long selected = got.count();
      if (selected != expected) {
        throw new IllegalStateException(
            "Cannot accept the product's selection: it wrote " + selected + " rows, but min(K, candidates)"
                + " summed over classes is " + expected);
      }
      Boolean match = null;
      long onlyProduct = 0;
      long onlyBaseline = 0;
      if (o.baseline()) {
        Dataset<Row> base = spark.read().parquet(baselineOut);
        long[] diff = differences(got, base);
        onlyProduct = diff[0];
        onlyBaseline = diff[1];
        match = onlyProduct == 0 && onlyBaseline == 0;
        if (!match) {
          log.error("[bench select] MISMATCH: {} rows only in the product's selection, {} only in the baseline's;"
                  + " first differences: product {} baseline {}", onlyProduct, onlyBaseline,
              got.exceptAll(base).orderBy("class", "rank").limit(5).collectAsList(),
              base.exceptAll(got).orderBy("class", "rank").limit(5).collectAsList());
        } else {
          log.info("[bench select] both methods selected the same {} rows", selected);
        }
      }

      f.put("images", o.images());
      f.put("classes", o.classes());
      f.put("p", o.p());
      f.put("k", k);
      f.put("candidates", candidates);
      f.put("selected", selected);
      f.put("above_threshold", sel.aboveThreshold());
      f.put("seconds", round(seconds));
      f.put("baseline_seconds", baseSeconds == null ? null : round(baseSeconds));
      f.put("candidates_per_s", Math.round(candidates / seconds));
      f.put("baseline_candidates_per_s", baseSeconds == null ? null : Math.round(candidates / baseSeconds));
      f.put("speedup", baseSeconds == null ? null : round(baseSeconds / seconds));
      f.put("ns_per_image", round(seconds * 1e9 / o.images()));
      // CPU time of this JVM (local Spark: driver and executors) during each timed run: on a
      // shared machine, a cost that other processes' load does not inflate.
      f.put("cpu_seconds", round(cpuSeconds));
      f.put("baseline_cpu_seconds", baseCpuSeconds == null ? null : round(baseCpuSeconds));
      f.put("cpu_ns_per_image", round(cpuSeconds * 1e9 / o.images()));
      f.put("shuffle_bytes", pt.shuffleBytes());
      f.put("baseline_shuffle_bytes", bt == null ? null : bt.shuffleBytes());
      f.put("shuffle_records", pt.shuffleRecords());
      f.put("baseline_shuffle_records", bt == null ? null : bt.shuffleRecords());
      f.put("driver_result_bytes", pt.resultBytes());
      f.put("driver_histogram_cells", (long) o.classes() * o.bins());
      f.put("spill_bytes", pt.spillBytes());
      f.put("baseline_spill_bytes", bt == null ? null : bt.spillBytes());
      f.put("baseline_window_group_limit", windowGroupLimit);
      f.put("rows_match", match);
      f.put("rows_only_in_product", o.baseline() ? onlyProduct : null);
      f.put("rows_only_in_baseline", o.baseline() ? onlyBaseline : null);
      f.put("input", input);
      return new Outcome(f, match);
    } finally {
      sc.clearJobGroup();
      sc.removeSparkListener(meter);
    }
  }

  /** Rows only in {@code a} and rows only in {@code b}, duplicates counted (0, 0: same rows). */
  static long[] differences(Dataset<Row> a, Dataset<Row> b) {
    return new long[] {a.exceptAll(b).count(), b.exceptAll(a).count()};
  }

  /**
   * Runs both methods once, untimed, on a small table of the same shape, so neither timed run pays
   * for class loading, code generation or JIT compilation that the other then gets for free.
   */
  private static void warmUp(SparkSession spark, Options o, int k) throws IOException {
    long n = Math.max(1, Math.min(o.images() / 10, 20_000));
    SyntheticScores.Spec spec = new SyntheticScores.Spec(n, o.classes(), o.p(), o.seed() + 1, o.tieLevels());
    Dataset<Row> small = spark.read().parquet(SyntheticScores.materialize(spark, spec, o.dataDir()));
    log.info("[bench select] warming up both methods on {} images (untimed)", n);
    TopKPerClass.selectTopK(spark, small, o.classes(), k, o.p(), o.bins()).ranked()
        .write().mode("overwrite").parquet(new Path(o.workDir(), "warmup-product").toString());
    if (o.baseline()) {
      SelectBaseline.select(small, k, o.p()).write().mode("overwrite")
          .parquet(new Path(o.workDir(), "warmup-baseline").toString());
    }
  }

  /** Table lines for a person, printed before the JSON line. */
  static List<String> summary(Map<String, Object> f) {
    return List.of(
        String.format("images %,d  candidates %,d  K %s  selected %,d  above thresholds %,d",
            (Long) f.get("images"), (Long) f.get("candidates"), f.get("k"), (Long) f.get("selected"),
            (Long) f.get("above_threshold")),
        String.format("product : %8s s (%s s CPU)  %,14d candidates/s  %,16d shuffle bytes",
            f.get("seconds"), f.get("cpu_seconds"), (Long) f.get("candidates_per_s"), (Long) f.get("shuffle_bytes")),
        f.get("baseline_seconds") == null
            ? "baseline: skipped"
            : String.format("baseline: %8s s (%s s CPU)  %,14d candidates/s  %,16d shuffle bytes  speedup %sx  rows match: %s",
                f.get("baseline_seconds"), f.get("baseline_cpu_seconds"), (Long) f.get("baseline_candidates_per_s"),
                (Long) f.get("baseline_shuffle_bytes"), f.get("speedup"), f.get("rows_match")));
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String fmt(double v) {
    return String.format("%.1f", v);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
