package io.semisup.core.experiments;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import io.semisup.core.multigrain.MultigrainObjective;
import io.semisup.core.multigrain.MultigrainTrainer;
import io.semisup.core.multigrain.RepeatedAugmentation;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.Minibatch;
import io.semisup.core.train.Shuffle;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The teacher with and without the MultiGrain objective at the demo's labelled set (not a test):
 * {@code labelled-per-class} images per class drawn with the seed, GeM (p = 3) resnet-small, the
 * teacher recipe (LR 0.1 one-cycle, flips and 2-pixel shifts) at batch 63 for both arms, top-1 on
 * 5,000 other training-split images (validation, never the test set), and the margin loss of a
 * fixed held-out batch of 100 images x 3 augmentations. Args: epochs seed [labelled-per-class]
 * [lambda] [arms, comma-separated: plain,multigrain].
 */
public final class MultigrainProbe {
  public static void main(String[] a) {
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    int epochs = Integer.parseInt(a[0]);
    long seed = Long.parseLong(a[1]);
    int perClass = a.length > 2 ? Integer.parseInt(a[2]) : 100;
    double lambda = a.length > 3 ? Double.parseDouble(a[3]) : 0.5;
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    InputSpec spec = FashionMnist.INPUT_SPEC;
    int[] order = Shuffle.permutation(train.size(), new Random(seed));
    int[] count = new int[10];
    List<Integer> lab = new ArrayList<>();
    List<Integer> rest = new ArrayList<>();
    for (int i : order) {
      if (count[train.label(i)] < perClass) {
        count[train.label(i)]++;
        lab.add(i);
      } else {
        rest.add(i);
      }
    }
    int[] idx = lab.stream().mapToInt(Integer::intValue).toArray();
    int[] val = rest.subList(0, 5000).stream().mapToInt(Integer::intValue).toArray();
    float[][] x = train.chw(idx, spec);
    int[] y = train.labels(idx);
    float[][] xVal = train.chw(val, spec);
    int[] yVal = train.labels(val);
    int[] heldRows = RepeatedAugmentation.rows(val, 0, 100, 3);
    float[][] held = Minibatch.pack(train.chw(heldRows, spec), train.labels(heldRows), spec, 10,
        new Augmenter(true, 2, 0), 0, new Random(seed + 5))[0].reshape(heldRows.length, -1).toFloatMatrix();
    int[] groups = RepeatedAugmentation.groups(100, 3);
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(epochs).withBatchSize(63)
        .withLearningRate(0.1).withSeed(seed);
    String[] arms = (a.length > 4 ? a[4] : "plain,multigrain").split(",");
    for (String arm : arms) {
      ComputationGraph g = Architectures.build("resnet-small", spec, 10, cfg, GlobalPool.gem(3));
      long t0 = System.nanoTime();
      double beta = 1.2;
      if (arm.equals("plain")) {
        LocalTrainer.fit(g, x, y, cfg, spec, null);
      } else {
        var stats = MultigrainTrainer.fit(g, x, y, cfg, spec, null,
            new MultigrainObjective(lambda, 0.2, 1.2, 3), null);
        beta = stats.get(stats.size() - 1).beta();
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      double top1 = LocalTrainer.evaluate(g, xVal, yVal)[0];
      double margin = MultigrainTrainer.marginLoss(g, held, groups, spec, beta, 0.2, seed);
      System.out.printf(Locale.ROOT, "probe seed %d epochs %d labelled %d arm %s lambda %.2f: val top-1 %.4f,"
              + " held-out margin loss %.4f (beta %.4f), %.0f s%n", seed, epochs, idx.length, arm,
          arm.equals("plain") ? 1.0 : lambda, top1, margin, beta, secs);
    }
  }
}
