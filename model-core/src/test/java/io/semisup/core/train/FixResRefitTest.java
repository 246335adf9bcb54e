package io.semisup.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.Architectures;
import io.semisup.core.testing.FashionMnistFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** FixRes on a real resnet-tiny trained at 20x20 on real Fashion-MNIST images, fixed at 28x28. */
class FixResRefitTest {

  private static final InputSpec LOW = FashionMnist.INPUT_SPEC.withSize(20, 20);
  private static final InputSpec TEST = FashionMnist.INPUT_SPEC;

  private static ComputationGraph trained;
  private static float[][] xTest;
  private static int[] y;

  @BeforeAll
  static void trainAtLowResolution() {
    FashionMnist data = FashionMnistFixture.train();
    int n = data.size();
    float[][] xLow = new float[n][];
    xTest = new float[n][];
    y = new int[n];
    Preprocessor low = new Preprocessor(LOW);
    Preprocessor test = new Preprocessor(TEST);
    for (int i = 0; i < n; i++) {
      xLow[i] = low.toChw(data.pixels(i), 28, 28);
      xTest[i] = test.toChw(data.pixels(i), 28, 28);
      y[i] = data.label(i);
    }
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(2).withBatchSize(32).withSeed(5);
    trained = Architectures.build("resnet-tiny", LOW, 10, cfg);
    LocalTrainer.fit(trained, xLow, y, cfg, LOW, null);
  }

  @Test
  void onlyTheClassifierAndTheStatisticsBeforeThePoolingChange() {
    FixResRefit refit = new FixResRefit(trained);
    assertEquals(List.of("s1b0_b_bn", "s1b0_proj_bn"), refit.batchNormLayers());
    assertEquals(Architectures.OUTPUT, refit.classifierLayer());
    Map<String, INDArray> before = copy(trained.paramTable());
    List<FixResRefit.Report> report = new ArrayList<>();
    ComputationGraph fixed = refit.fix(xTest, y, new long[] {1, 28, 28},
        FixResRefit.Recipe.official(3, 16, 9), report);

    Map<String, INDArray> after = fixed.paramTable();
    Set<String> mayChange = Set.of("output_W", "output_b", "s1b0_b_bn_mean", "s1b0_b_bn_var",
        "s1b0_b_bn_log10stdev", "s1b0_proj_bn_mean", "s1b0_proj_bn_var", "s1b0_proj_bn_log10stdev");
    for (Map.Entry<String, INDArray> e : before.entrySet()) {
      float[] was = e.getValue().data().asFloat();
      float[] now = after.get(e.getKey()).dup().data().asFloat();
      if (!mayChange.contains(e.getKey())) {
        assertArrayEquals(was, now, 0f, e.getKey() + " must be bit-identical");
      }
    }
    for (String changed : List.of("output_W", "s1b0_b_bn_mean", "s1b0_proj_bn_mean")) {
      assertFalse(java.util.Arrays.equals(before.get(changed).data().asFloat(),
          after.get(changed).dup().data().asFloat()), changed + " must change");
    }
    // The input model is untouched.
    assertArrayEquals(before.get("output_W").data().asFloat(),
        trained.paramTable().get("output_W").dup().data().asFloat(), 0f);
    assertEquals(3, report.get(0).epochLoss().length);

    // Re-estimated statistics normalize the test-resolution activations: the BN's inference
    // output has per-channel mean beta and standard deviation |gamma|.
    INDArray in = Nd4j.create(flat(xTest), new long[] {xTest.length, 1, 28, 28}, 'c');
    INDArray out = fixed.feedForward(in, false).get("s1b0_b_bn");
    INDArray gamma = after.get("s1b0_b_bn_gamma");
    INDArray beta = after.get("s1b0_b_bn_beta");
    INDArray mean = out.mean(0, 2, 3);
    INDArray std = out.std(false, 0, 2, 3);
    for (int c = 0; c < mean.length(); c++) {
      assertEquals(beta.getDouble(c), mean.getDouble(c), 1e-3, "mean of channel " + c);
      assertEquals(Math.abs(gamma.getDouble(c)), std.getDouble(c), 2e-2 * Math.abs(gamma.getDouble(c)) + 1e-3,
          "std of channel " + c);
    }
    // The fixed model evaluates at the test resolution.
    float[][] probs = LocalTrainer.predict(fixed, xTest, TEST);
    double top1 = LocalTrainer.accuracy(probs, y)[0];
    assertTrue(top1 > 0.1, "top-1 " + top1);
  }

  private static Map<String, INDArray> copy(Map<String, INDArray> params) {
    Map<String, INDArray> out = new java.util.LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, v.dup()));
    return out;
  }

  private static float[] flat(float[][] x) {
    float[] f = new float[x.length * x[0].length];
    for (int i = 0; i < x.length; i++) {
      System.arraycopy(x[i], 0, f, i * x[0].length, x[0].length);
    }
    return f;
  }
}
