package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

/**
 * A model built for 28x28 runs at other resolutions (global pooling), and its ONNX export follows
 * the size its metadata gives (FixRes: trained at one resolution, scored at another).
 */
class OnnxExportResolutionTest {

  @Test
  void exportAtAnotherResolutionScoresLikeDl4j() {
    ComputationGraph g = Architectures.build("resnet-tiny", FashionMnist.INPUT_SPEC, 10,
        TrainingConfig.defaults().withSeed(3));
    for (int side : new int[] {20, 32}) {
      InputSpec spec = FashionMnist.INPUT_SPEC.withSize(side, side);
      Random rnd = new Random(side);
      float[][] images = new float[8][spec.size()];
      for (float[] img : images) {
        for (int j = 0; j < img.length; j++) {
          img[j] = (float) rnd.nextGaussian();
        }
      }
      byte[] onnx = new OnnxExporter(spec).toBytes(g);
      float[][] expected;
      float[][] actual;
      try (Dl4jScorer dl4j = new Dl4jScorer(g, spec);
          OnnxScorer ort = new OnnxScorer(onnx, spec, 10)) {
        expected = dl4j.probabilities(images);
        actual = ort.probabilities(images);
      }
      float diff = 0;
      float spread = 0;
      for (int i = 0; i < images.length; i++) {
        for (int c = 0; c < 10; c++) {
          diff = Math.max(diff, Math.abs(expected[i][c] - actual[i][c]));
          spread = Math.max(spread, Math.abs(expected[i][c] - expected[0][c]));
        }
      }
      assertThat(spread).as("output at %d px depends on the image", side).isGreaterThan(1e-4f);
      assertThat(diff).as("max |DL4J - ONNX| at %d px", side).isLessThanOrEqualTo(1e-4f);
    }
  }
}
