package io.semisup.jobs.bench;

import io.semisup.core.UsageError;
import io.semisup.core.audit.HashSplit;
import io.semisup.core.audit.MembershipAudit;
import io.semisup.core.audit.MembershipScores;
import io.semisup.core.audit.TwoSampleTest;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.ContentHash;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.TrainingConfigs;
import io.semisup.jobs.stages.RunContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench audit}: does the Déjà Vu audit find test images a model was trained on, and how
 * often does it cry wolf?
 *
 * <p>The Fashion-MNIST test set is split in two by the seeded hash of each image's id (SHA-256 of
 * its pixels): the suspect half and the reference half. For each contamination c (a share of the
 * whole test set), altered copies ({@link PlantedCopies}: crop, flip, JPEG) of that many suspect
 * images, drawn in a seeded order so that each c's copies include the smaller c's, join the
 * labelled training images with their true labels, and a model is trained from scratch on the
 * union: the simplest honest proxy of a pipeline whose crawled pool held copies of the test set
 * (here the copies carry true labels, as pseudo-labels of a good teacher mostly would). The
 * audit then compares the model's losses on the suspect half with the reference half. The
 * false-alarm rate is measured on the c = 0 model: {@code --resplits} re-splits of the (all
 * unseen) test set with other seeds, the share with p < alpha.
 *
 * <p>Rows with dedup = true (the same runs after the dedup stage removed the copies) need the
 * dedup stage, which this bench does not have yet: only dedup = false rows are printed.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "Deja Vu membership audit of models trained on copies of c% of the test set; false-alarm rate at c = 0.",
      "Last line: JSON {\"alpha\": a, \"false_alarm_rate\": f, \"rows\": [{contamination, dedup, p_value, detected, test_top1}, ...]}."
    })
public final class BenchAudit implements Callable<Integer> {

  @Mixin RunOptions run = new RunOptions();

  @Option(names = "--contaminations", split = ",", defaultValue = "0,1,5,20",
      description = "Percent of the test set copied (from its suspect half) into training (default: ${DEFAULT-VALUE}).")
  List<Double> contaminations;

  @Option(names = "--labels", defaultValue = "500",
      description = "Labelled training images, balanced over classes (default: ${DEFAULT-VALUE}).")
  int labels;

  @Option(names = "--arch", defaultValue = "resnet-tiny", description = "Architecture (default: ${DEFAULT-VALUE}).")
  String arch;

  @Option(names = "--epochs", defaultValue = "20", description = "Training epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--alpha", defaultValue = "0.05", description = "Level of the test (default: ${DEFAULT-VALUE}).")
  double alpha;

  @Option(names = "--test", defaultValue = "mann-whitney",
      description = "Deciding test: mann-whitney or ks (default: ${DEFAULT-VALUE}).")
  String test;

  @Option(names = "--resplits", defaultValue = "400",
      description = "Re-splits of the unseen test set for the false-alarm rate (default: ${DEFAULT-VALUE}).")
  int resplits;

  @Option(names = "--exact-copies", description = "Plant exact copies instead of altered ones.")
  boolean exactCopies;

  @Option(names = "--no-augment",
      description = "Train without the recipe's flips and shifts (a model that memorises more).")
  boolean noAugment;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of split, copies and training (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = run.load();
    Path dir = BenchSupport.fashionMnistDir(idxDir, config);
    if (!Architectures.names().contains(arch)) {
      throw new UsageError("Cannot benchmark architecture '" + arch + "': valid names are " + Architectures.names());
    }
    TwoSampleTest.Kind kind;
    try {
      kind = TwoSampleTest.Kind.of(test);
    } catch (IllegalArgumentException e) {
      throw new UsageError("Cannot run --test " + test + ": valid are " + TwoSampleTest.Kind.keys());
    }
    if (!(alpha > 0 && alpha < 1) || resplits < 1 || labels < 10 || epochs < 1) {
      throw new UsageError("Cannot run bench audit with --alpha " + alpha + ", --resplits " + resplits
          + ", --labels " + labels + ", --epochs " + epochs + ": need 0 < alpha < 1, resplits >= 1, labels >= 10, epochs >= 1");
    }
    TrainingConfig base = TrainingConfigs.from(config.settings().teacher().train(), seed).withEpochs(epochs);
    TrainingConfig recipe = noAugment ? base.withAugment(false, 0) : base;

    FashionMnist train = FashionMnist.load(dir, true);
    FashionMnist testSet = FashionMnist.load(dir, false);
    int[] labelledIdx = balanced(train, labels, new Random(seed));
    float[][] xLabelled = train.chw(labelledIdx, SPEC);
    int[] yLabelled = train.labels(labelledIdx);
    int n = testSet.size();
    int[] all = new int[n];
    Arrays.setAll(all, i -> i);
    float[][] xTest = testSet.chw(all, SPEC);
    int[] yTest = testSet.labels(all);
    String[] ids = new String[n];
    for (int i = 0; i < n; i++) {
      ids[i] = ContentHash.of(testSet.pixels(i));
    }
    HashSplit split = new HashSplit(seed);
    List<Integer> suspect = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (split.isSuspect(ids[i])) {
        suspect.add(i);
      }
    }
    java.util.Collections.shuffle(suspect, new Random(seed + 7)); // copies of c are a prefix: nested
    System.out.printf(Locale.ROOT, "bench audit: %s, %d epochs, %d labels, test %d images (suspect %d),"
            + " %s copies, augmentation %s, alpha %.3f, %s, load %.1f%n",
        arch, epochs, labels, n, suspect.size(), exactCopies ? "exact" : "altered", noAugment ? "off" : "on", alpha, kind.key(),
        BenchSupport.loadAverage());

    List<Map<String, Object>> rows = new ArrayList<>();
    Double falseAlarm = null;
    for (double c : contaminations) {
      int copies = (int) Math.round(c / 100.0 * n);
      if (copies > suspect.size()) {
        throw new UsageError("Cannot copy " + c + "% of the test set (" + copies + " images): the suspect half has "
            + suspect.size() + ". Use at most " + (100.0 * suspect.size() / n) + "%.");
      }
      Random r = new Random(seed + 13);
      float[][] x = Arrays.copyOf(xLabelled, xLabelled.length + copies);
      int[] y = Arrays.copyOf(yLabelled, yLabelled.length + copies);
      for (int k = 0; k < copies; k++) {
        int i = suspect.get(k);
        byte[] pixels = exactCopies ? testSet.pixels(i) : PlantedCopies.alter(testSet.pixels(i), FashionMnist.SIDE, r);
        x[xLabelled.length + k] = chw(pixels);
        y[xLabelled.length + k] = yTest[i];
      }
      long t0 = System.nanoTime();
      ComputationGraph g = Architectures.build(arch, SPEC, 10, recipe);
      LocalTrainer.fit(g, x, y, recipe, SPEC, null);
      float[][] probs = LocalTrainer.predict(g, xTest, SPEC);
      double trainSeconds = (System.nanoTime() - t0) / 1e9;
      double top1 = LocalTrainer.accuracy(probs, yTest)[0];
      double[] loss = MembershipScores.losses(probs, yTest);
      MembershipAudit audit = audit(loss, ids, split, kind);
      double copiedLoss = 0;
      for (int k = 0; k < copies; k++) {
        copiedLoss += loss[suspect.get(k)];
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("contamination", c / 100.0);
      row.put("dedup", false);
      row.put("p_value", audit.pValue());
      row.put("detected", audit.member());
      row.put("test_top1", BenchSupport.round(top1, 4));
      row.put("copies", copies);
      row.put("mann_whitney_p", audit.mannWhitney().pValue());
      row.put("ks_p", audit.ks().pValue());
      row.put("membership_auc", BenchSupport.round(audit.mannWhitney().effect(), 4));
      row.put("suspect_mean_loss", BenchSupport.round(audit.suspectMeanLoss(), 4));
      row.put("reference_mean_loss", BenchSupport.round(audit.referenceMeanLoss(), 4));
      row.put("copied_mean_loss", copies == 0 ? null : BenchSupport.round(copiedLoss / copies, 4));
      rows.add(row);
      System.out.printf(Locale.ROOT, "  c %5.1f%% (%4d copies): top1 %.4f, %s; mean loss copied %.4f; %.0f s%n",
          c, copies, top1, audit.summary(), copies == 0 ? Double.NaN : copiedLoss / copies, trainSeconds);
      if (copies == 0 && falseAlarm == null) {
        int alarms = 0;
        for (int s = 1; s <= resplits; s++) {
          alarms += audit(loss, ids, new HashSplit(seed + 1000L * s), kind).member() ? 1 : 0;
        }
        falseAlarm = alarms / (double) resplits;
        System.out.printf(Locale.ROOT, "  false alarms at c = 0: %d of %d re-splits (%.3f)%n", alarms, resplits, falseAlarm);
      }
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("alpha", alpha);
    json.put("false_alarm_rate", falseAlarm);
    json.put("rows", rows);
    json.put("test", kind.key());
    json.put("arch", arch);
    json.put("epochs", epochs);
    json.put("labels", labelledIdx.length);
    json.put("copies", exactCopies ? "exact" : "altered: crop 50-90% area, flip 1/2, JPEG q30-90");
    json.put("augment", !noAugment);
    json.put("resplits", resplits);
    json.put("seed", seed);
    json.put("load_average", BenchSupport.round(BenchSupport.loadAverage(), 2));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  private MembershipAudit audit(double[] loss, String[] ids, HashSplit split, TwoSampleTest.Kind kind) {
    double[] s = new double[loss.length];
    double[] r = new double[loss.length];
    int ns = 0;
    int nr = 0;
    for (int i = 0; i < loss.length; i++) {
      if (split.isSuspect(ids[i])) {
        s[ns++] = loss[i];
      } else {
        r[nr++] = loss[i];
      }
    }
    return MembershipAudit.of("loss", Arrays.copyOf(s, ns), Arrays.copyOf(r, nr), kind, alpha);
  }

  private static float[] chw(byte[] grey) {
    float mean = SPEC.mean()[0];
    float std = SPEC.std()[0];
    float[] out = new float[grey.length];
    for (int k = 0; k < grey.length; k++) {
      out[k] = ((grey[k] & 0xFF) / 255f - mean) / std;
    }
    return out;
  }

  /** {@code n} training images, n / 10 per class, in a seeded order. */
  private static int[] balanced(FashionMnist train, int n, Random r) {
    int[] order = new int[train.size()];
    Arrays.setAll(order, i -> i);
    for (int i = order.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] perClass = new int[10];
    int[] out = new int[n];
    int k = 0;
    for (int i : order) {
      if (k == n) {
        break;
      }
      int c = train.label(i);
      if (perClass[c] < (n + 9) / 10) {
        perClass[c]++;
        out[k++] = i;
      }
    }
    return Arrays.copyOf(out, k);
  }
}
