package io.semisup.core.multigrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.Augmenter;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.multigrain.DistanceWeightedSampling.Triplet;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.testing.Prerequisites;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.Minibatch;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class MultigrainTest {

  private static double[][] randomRows(int b, int d, Random rnd) {
    double[][] z = new double[b][d];
    for (double[] row : z) {
      for (int k = 0; k < d; k++) {
        row[k] = rnd.nextGaussian() + 0.3;
      }
    }
    return z;
  }

  @Test
  void marginLossGradientMatchesFiniteDifferencesIncludingBeta() {
    Random rnd = new Random(7);
    int b = 12;
    int d = 6;
    double[][] z = randomRows(b, d, rnd);
    int[] group = RepeatedAugmentation.groups(4, 3);
    List<Triplet> triplets = DistanceWeightedSampling.sample(MarginLoss.normalize(z), group, new Random(3));
    assertThat(triplets).hasSize(b * 2); // each row with its 2 other copies
    double beta = 1.0;
    double margin = 0.2;
    MarginLoss.Result r = MarginLoss.compute(z, triplets, beta, margin);
    assertThat(r.activeTerms()).isGreaterThan(0).isLessThan(2 * triplets.size()); // both sides of the hinge
    double h = 1e-6;
    double maxErr = 0;
    for (int i = 0; i < b; i++) {
      for (int k = 0; k < d; k++) {
        double keep = z[i][k];
        z[i][k] = keep + h;
        double up = MarginLoss.compute(z, triplets, beta, margin).loss();
        z[i][k] = keep - h;
        double down = MarginLoss.compute(z, triplets, beta, margin).loss();
        z[i][k] = keep;
        maxErr = Math.max(maxErr, Math.abs((up - down) / (2 * h) - r.gradZ()[i][k]));
      }
    }
    assertThat(maxErr).isLessThan(1e-6);
    double dBeta = (MarginLoss.compute(z, triplets, beta + h, margin).loss()
        - MarginLoss.compute(z, triplets, beta - h, margin).loss()) / (2 * h);
    assertThat(r.gradBeta()).isCloseTo(dBeta, offset(1e-6));
    assertThat(r.gradBeta()).isNotZero();
  }

  @Test
  void lossFunctionGradientIsTheDerivativeOfItsSummedScoreAsDl4jExpects() {
    // DL4J's contract (as LossMCXENT): computeGradient = d computeScore(average = false) / d preOutput;
    // the updater then divides by the minibatch size.
    Random rnd = new Random(5);
    int b = 9;
    int d = 5;
    double[][] z = randomRows(b, d, rnd);
    INDArray pre = org.nd4j.linalg.factory.Nd4j.create(z).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    double[][] labels = new double[b][1];
    for (int i = 0; i < b; i++) {
      labels[i][0] = i / 3;
    }
    INDArray lab = org.nd4j.linalg.factory.Nd4j.create(labels).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    var identity = new org.nd4j.linalg.activations.impl.ActivationIdentity();
    MarginLossFunction f = new MarginLossFunction(0.5, 0.2, 1.0, 3);
    f.startStep(4);
    INDArray grad = f.computeGradient(lab, pre, identity, null);
    double h = 1e-6;
    for (int i = 0; i < b; i++) {
      for (int k = 0; k < d; k++) {
        double keep = pre.getDouble(i, k);
        pre.putScalar(i, k, keep + h);
        double up = f.computeScore(lab, pre, identity, null, false);
        pre.putScalar(i, k, keep - h);
        double down = f.computeScore(lab, pre, identity, null, false);
        pre.putScalar(i, k, keep);
        assertThat(grad.getDouble(i, k)).isCloseTo((up - down) / (2 * h), offset(1e-4));
      }
    }
    assertThat(f.computeScore(lab, pre, identity, null, true) * b)
        .isCloseTo(f.computeScore(lab, pre, identity, null, false), offset(1e-9));
    double beta = f.beta();
    f.stepBeta(0.1, 0.9);
    // One Nesterov step from zero velocity moves beta by -(1 + mu) lr weight dL/dbeta.
    assertThat(f.beta() - beta).isCloseTo(-(1.9) * 0.1 * 0.5 * f.last().gradBeta(), offset(1e-12));
  }

  @Test
  void samplingWeightsAreTheInverseDensityClippedAndCutOff() {
    int n = 16;
    double[] dist = {0.2, 0.5, 0.8, 1.1, 1.39, 1.4, 1.7, 0.9};
    boolean[] allowed = {true, true, true, true, true, true, true, false};
    double[] w = DistanceWeightedSampling.weights(dist, allowed, n);
    // 1/q(d) with q(d) = d^(n-2) (1 - d^2/4)^((n-3)/2), d clipped below at 0.5.
    java.util.function.DoubleUnaryOperator inv = x -> {
      double c = Math.max(x, 0.5);
      return 1 / (Math.pow(c, n - 2) * Math.pow(1 - c * c / 4, (n - 3) / 2.0));
    };
    for (int j = 1; j <= 4; j++) {
      assertThat(w[j] / w[2]).isCloseTo(inv.applyAsDouble(dist[j]) / inv.applyAsDouble(dist[2]), offset(1e-9));
    }
    assertThat(w[0]).isEqualTo(w[1]); // clipped at 0.5
    assertThat(Arrays.stream(w).max().orElseThrow()).isEqualTo(1.0);
    assertThat(w[5]).isZero(); // beyond the non-zero-loss cutoff
    assertThat(w[6]).isZero();
    assertThat(w[7]).isZero(); // not a negative

    // Draws follow the weights: two negatives at 0.6 and 1.0 in 16 dimensions.
    double[][] u = new double[4][n];
    u[0][0] = 1;
    u[1][0] = 1; // the anchor's copy
    u[2][0] = 1 - 0.18;
    u[2][1] = Math.sqrt(1 - 0.82 * 0.82); // distance 0.6 from u[0]
    u[3][0] = 0.5;
    u[3][1] = Math.sqrt(0.75); // distance 1.0
    int[] group = {0, 0, 1, 2};
    Random rnd = new Random(11);
    int near = 0;
    int total = 0;
    for (int t = 0; t < 20_000; t++) {
      for (Triplet tr : DistanceWeightedSampling.sample(u, group, rnd)) {
        if (tr.anchor() == 0) {
          assertThat(group[tr.negative()]).isNotEqualTo(0);
          near += tr.negative() == 2 ? 1 : 0;
          total++;
        }
      }
    }
    double expected = inv.applyAsDouble(0.6) / (inv.applyAsDouble(0.6) + inv.applyAsDouble(1.0));
    assertThat(near / (double) total).isCloseTo(expected, offset(0.01));
  }

  @Test
  void repeatedAugmentationBatchHasEachImageNTimesDifferentlyAugmented() {
    FashionMnist train = FashionMnist.load(Prerequisites.fashionMnist(), true);
    var spec = FashionMnist.INPUT_SPEC;
    int[] perm = {5, 9, 2, 7, 4};
    int[] rows = RepeatedAugmentation.rows(perm, 1, 3, 3);
    assertThat(rows).containsExactly(9, 9, 9, 2, 2, 2, 7, 7, 7);
    assertThat(RepeatedAugmentation.groups(3, 3)).containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2);
    float[][] x = train.chw(rows, spec);
    int[] y = train.labels(rows);
    INDArray[] batch = Minibatch.pack(x, y, spec, 10, new Augmenter(true, 2, 0), 0, new Random(1));
    float[][] flat = batch[0].reshape(rows.length, -1).toFloatMatrix();
    for (int i = 0; i < 3; i++) {
      for (int a = 0; a < 3; a++) {
        for (int c = a + 1; c < 3; c++) {
          assertThat(flat[3 * i + a]).as("copies %d and %d of image %d", a, c, i)
              .isNotEqualTo(flat[3 * i + c]);
        }
      }
    }
    assertThat(RepeatedAugmentation.imagesPerEpoch(100, 3)).isEqualTo(34);
    assertThatThrownBy(() -> MultigrainObjective.PAPER.imagesPerBatch(64))
        .hasMessageContaining("multiple of repeats");
    assertThat(MultigrainObjective.PAPER.imagesPerBatch(63)).isEqualTo(21);
  }

  @Test
  void shortTrainingLowersTheMarginLossAndStillClassifies() throws Exception {
    FashionMnist train = FashionMnist.load(Prerequisites.fashionMnist(), true);
    var spec = FashionMnist.INPUT_SPEC;
    int[] idx = new int[600];
    int[] evalIdx = new int[300];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    for (int i = 0; i < evalIdx.length; i++) {
      evalIdx[i] = 20_000 + i;
    }
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(4).withBatchSize(30)
        .withLearningRate(0.05).withAugment(true, 2).withSeed(42);
    ComputationGraph g = Architectures.build("resnet-small", spec, 10, cfg, GlobalPool.gem(3));
    // A fixed held-out batch of repeated augmentations: 20 images x 3 copies.
    int[] heldRows = RepeatedAugmentation.rows(evalIdx, 0, 20, 3);
    INDArray[] held = Minibatch.pack(train.chw(heldRows, spec), train.labels(heldRows), spec, 10,
        new Augmenter(true, 2, 0), 0, new Random(5));
    float[][] heldX = held[0].reshape(heldRows.length, -1).toFloatMatrix();
    int[] heldGroups = RepeatedAugmentation.groups(20, 3);
    ComputationGraph untrained = g.clone();

    List<Integer> epochs = new ArrayList<>();
    var stats = MultigrainTrainer.fit(g, train.chw(idx, spec), train.labels(idx), cfg, spec, null,
        MultigrainObjective.PAPER, epochs::add);
    assertThat(epochs).containsExactly(1, 2, 3, 4);
    assertThat(stats.get(3).meanMarginLoss()).isLessThan(stats.get(0).meanMarginLoss());
    double beta = stats.get(3).beta();
    assertThat(beta).isNotEqualTo(1.2); // learned
    // Both at the learned beta: the trained embedding separates held-out copies better.
    double before = MultigrainTrainer.marginLoss(untrained, heldX, heldGroups, spec, beta, 0.2, 9);
    double after = MultigrainTrainer.marginLoss(g, heldX, heldGroups, spec, beta, 0.2, 9);
    assertThat(after).isLessThan(before);
    double[] acc = LocalTrainer.evaluate(g, train.chw(evalIdx, spec), train.labels(evalIdx));
    assertThat(acc[0]).isGreaterThan(0.5); // chance is 0.1

    // The caller's graph is still the plain classifier: one output, exports to ONNX.
    assertThat(g.getConfiguration().getNetworkOutputs()).containsExactly(Architectures.OUTPUT);
    List<String> classes = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      classes.add("c" + c);
    }
    var bundle = new ModelBundle(g, new ModelMetadata("mg", "resnet-small", classes, spec, 42, Map.of()));
    assertThat(OnnxExporter.toBytes(bundle).length).isGreaterThan(1000);
  }

  @Test
  void rejectsTrainingWithoutAugmentation() {
    var spec = FashionMnist.INPUT_SPEC;
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(6).withAugment(false, 0);
    ComputationGraph g = Architectures.build("resnet-small", spec, 10, cfg);
    assertThatThrownBy(() -> MultigrainTrainer.fit(g, new float[6][784], new int[6], cfg, spec,
        null, MultigrainObjective.PAPER, null)).hasMessageContaining("without augmentation");
  }
}
