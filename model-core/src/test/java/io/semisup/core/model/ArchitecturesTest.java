package io.semisup.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.train.TrainingConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ArchitecturesTest {

  @Test
  void everyNameBuildsAndForwardPasses() {
    assertThat(Architectures.names()).contains("resnet-small", "resnet-tiny");
    for (String name : Architectures.names()) {
      ComputationGraph g =
          Architectures.build(name, FashionMnist.INPUT_SPEC, 10, TrainingConfig.defaults());
      assertThat(g.getConfiguration().getNetworkInputs()).containsExactly("input");
      assertThat(g.getConfiguration().getNetworkOutputs()).containsExactly("output");
      INDArray out = g.output(Nd4j.rand(3, 1, 28, 28))[0];
      assertThat(out.shape()).containsExactly(3, 10);
      assertThat(out.sum(1).getDouble(0)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      // the configuration (with its schedule) survives the JSON round trip dl4j-spark relies on
      g.setLearningRate(TrainingConfig.defaults().lrSchedule(1000));
      String json = g.getConfiguration().toJson();
      assertThat(ComputationGraphConfiguration.fromJson(json)).isEqualTo(g.getConfiguration());
    }
  }

  /**
   * He et al.'s ResNet-50 at ImageNet size: torchvision counts 25,557,032 trainable parameters;
   * DL4J also stores BatchNormalization's running mean and variance as parameters (2 x 26,560
   * channels more), so the same network has 25,610,152.
   */
  @Test
  void resnet50HasTheReferenceSize() {
    InputSpec spec = new InputSpec(224, 224, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    ComputationGraph g = Architectures.build(Architectures.RESNET_50, spec, 1000,
        TrainingConfig.defaults());
    assertThat(g.numParams()).isEqualTo(25_610_152L);
    assertThat(g.getConfiguration().getVertices()).containsKeys("s3b2_out", "s2b5_c_conv",
        "s1b0_proj_conv");
    assertThatThrownBy(() -> Architectures.shape(Architectures.RESNET_50))
        .hasMessageContaining("bottleneck");
  }

  @Test
  void sameSeedSameWeights() {
    TrainingConfig cfg = TrainingConfig.defaults();
    ComputationGraph a = Architectures.build("resnet-tiny", FashionMnist.INPUT_SPEC, 10, cfg);
    ComputationGraph b = Architectures.build("resnet-tiny", FashionMnist.INPUT_SPEC, 10, cfg);
    assertThat(a.params()).isEqualTo(b.params());
  }

  @Test
  void unknownNameListsValidOnes() {
    assertThatThrownBy(() -> Architectures.build("resnet-9000", FashionMnist.INPUT_SPEC, 10,
            TrainingConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resnet-small")
        .hasMessageContaining("resnet-tiny");
  }
}
