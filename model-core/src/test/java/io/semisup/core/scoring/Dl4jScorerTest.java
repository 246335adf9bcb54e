package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class Dl4jScorerTest {

  private static final InputSpec SPEC =
      new InputSpec(4, 5, 3, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});
  private static ComputationGraph graph;

  @BeforeAll
  static void tinyGraph() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(5)
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(4, 5, 3))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(3)
            .activation(Activation.TANH).build(), "in")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5)
            .activation(Activation.SOFTMAX).build(), "conv")
        .setOutputs("out")
        .build();
    graph = new ComputationGraph(conf);
    graph.init();
  }

  private static float[][] batch(int n, long seed) {
    Random rnd = new Random(seed);
    float[][] b = new float[n][SPEC.size()];
    for (float[] row : b) {
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) rnd.nextGaussian();
      }
    }
    return b;
  }

  @Test
  void probabilitiesAreTheGraphsSoftmaxOnAnNchwBatch() {
    float[][] b = batch(6, 1);
    try (Dl4jScorer scorer = new Dl4jScorer(graph, SPEC)) {
      assertThat(scorer.numClasses()).isEqualTo(5);
      float[][] probs = scorer.probabilities(b);
      float[] flat = new float[6 * SPEC.size()];
      for (int i = 0; i < 6; i++) {
        System.arraycopy(b[i], 0, flat, i * SPEC.size(), SPEC.size());
      }
      float[][] expected =
          graph.output(false, Nd4j.create(flat, new long[] {6, 3, 4, 5}, 'c'))[0].toFloatMatrix();
      assertThat(probs).isDeepEqualTo(expected);
      for (float[] row : probs) {
        float sum = 0;
        for (float v : row) {
          sum += v;
        }
        assertThat(sum).isCloseTo(1f, within(1e-5f));
      }
      // Same image, same score, whatever the batch.
      float[][] alone = scorer.probabilities(new float[][] {b[3]});
      for (int c = 0; c < 5; c++) {
        assertThat(alone[0][c]).isCloseTo(probs[3][c], within(1e-6f));
      }
    }
  }

  @Test
  void scoreGivesTopPPerImage() {
    float[][] b = batch(3, 2);
    ModelMetadata meta = new ModelMetadata("m", "tiny", List.of("a", "b", "c", "d", "e"), SPEC,
        5, null);
    try (Scorer scorer = Dl4jScorer.of(new ModelBundle(graph, meta))) {
      float[][] probs = scorer.probabilities(b);
      List<TopP> top = scorer.score(b, 2);
      assertThat(top).hasSize(3);
      for (int i = 0; i < 3; i++) {
        assertThat(top.get(i)).isEqualTo(TopP.of(probs[i], 2));
      }
      assertThat(scorer.probabilities(new float[0][])).isEmpty();
    }
  }

  @Test
  void clearErrors() {
    Dl4jScorer scorer = new Dl4jScorer(graph, SPEC);
    assertThatThrownBy(() -> scorer.probabilities(new float[][] {new float[3]}))
        .hasMessageStartingWith("Cannot score image 0 of the batch: its tensor has 3 values");
    scorer.close();
    assertThatThrownBy(() -> scorer.probabilities(batch(1, 3))).hasMessageContaining("closed");
  }
}
