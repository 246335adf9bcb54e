package io.semisup.jobs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup bench select --images N}: is the product's two-pass selection fast and
 * bounded at scale? Runs it and the plain Spark SQL window baseline on the same synthetic scores
 * (paper's proportions), checks they pick exactly the same rows, and prints one JSON line.
 */
@Command(
    name = "select",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Selection time: the select stage vs a Spark SQL window baseline on synthetic scores.",
      "The product's selection (per-class score histograms merged on the driver -> per-class"
          + " thresholds -> exact top-K of the candidates above them) against the straightforward"
          + " baseline (explode the top-P classes + row_number() over a window by class, rank <= K),"
          + " checking that both select exactly the same rows (ties: score desc, image_id asc).",
      "",
      "Input: N images x P = 10 classes each, 1,000 classes with Zipf-skewed popularity, seeded;"
          + " written once as Parquet under --data-dir (untimed, reused by later runs) and read by"
          + " both methods the same way. Each method is timed from reading the scores to its"
          + " selection written as Parquet; shuffle bytes come from Spark's task metrics."
          + " Progress goes to stderr.",
      "The last stdout line is JSON: images, candidates_per_s,",
      "baseline_candidates_per_s, speedup, shuffle_bytes, baseline_shuffle_bytes,",
      "rows_match, ... Exit code 1 if the two methods disagree.",
      "",
      "Example: bin/semisup bench select --images 10000000",
      ""
    })
public final class BenchSelect implements Callable<Integer> {

  @Option(names = "--images", required = true, description = "Number of scored images N (e.g. 1000000).")
  long images;

  @Option(names = "--classes", defaultValue = "1000", description = "Classes (default: ${DEFAULT-VALUE}, ImageNet).")
  int classes;

  @Option(names = "--top-p", defaultValue = "10", description = "P: classes per image that are candidates (default: ${DEFAULT-VALUE}, the paper's).")
  int p;

  @Option(names = "--k-per-million", defaultValue = "16",
      description = "K per class per million images (default: ${DEFAULT-VALUE}: the paper's 16k at 10^9).")
  double kPerMillion;

  @Option(names = "--k", defaultValue = "0", description = "K per class, overriding --k-per-million.")
  int k;

  @Option(names = "--bins", defaultValue = "0", description = "Histogram bins per class (default: the product's select.histogram-bins).")
  int bins;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the synthetic scores (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--tie-levels", defaultValue = "0",
      description = "Round scores to multiples of 1/L, for many ties (default: 0, float scores as a model gives).")
  int tieLevels;

  @Option(names = "--no-baseline", description = "Skip the baseline (sizes where it does not finish); speedup is then null.")
  boolean noBaseline;

  @Option(names = "--data-dir", description = "Where synthetic inputs are kept (default: <semisup.root>/_bench/select/data).")
  String dataDir;

  @Option(names = "--work-dir", description = "Where both selections are written (default: <semisup.root>/_bench/select/out).")
  String workDir;

  @Option(names = {"--set", "-D"}, description = "Override a configuration key, e.g. --set spark.conf.\"spark.sql.shuffle.partitions\"=16.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = SemisupConfig.load("local", null, overrides);
    String root = new Path(config.settings().run().root(), "_bench/select").toString();
    SelectBenchmark.Options o =
        new SelectBenchmark.Options(
            images, classes, p, k, kPerMillion, bins > 0 ? bins : config.settings().select().histogramBins(), seed,
            tieLevels, !noBaseline, dataDir != null ? dataDir : root + "/data", workDir != null ? workDir : root + "/out");
    SparkSession spark = SparkSessions.create(config);
    SelectBenchmark.Outcome out = SelectBenchmark.run(spark, o);
    for (String line : SelectBenchmark.summary(out.figures())) {
      System.out.println(line);
    }
    System.out.println(new ObjectMapper().writeValueAsString(out.figures()));
    System.out.flush();
    return Boolean.FALSE.equals(out.rowsMatch()) ? 1 : 0;
  }
}
