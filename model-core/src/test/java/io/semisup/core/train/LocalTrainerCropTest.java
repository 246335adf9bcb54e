package io.semisup.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.model.Architectures;
import io.semisup.core.testing.FashionMnistFixture;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

/** LocalTrainer with a RandomResizedCrop: 28-px images train a model at 20 px, repeatably. */
class LocalTrainerCropTest {

  @Test
  void trainsAtTheCropSizeAndASeedFixesTheResult() {
    FashionMnist data = FashionMnistFixture.train();
    float[][] x = new float[64][];
    int[] y = new int[64];
    for (int i = 0; i < 64; i++) {
      x[i] = data.chw(i, FashionMnist.INPUT_SPEC);
      y[i] = data.label(i);
    }
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(16).withSeed(3);
    InputSpec low = FashionMnist.INPUT_SPEC.withSize(20, 20);
    float[][] probe = new float[8][];
    Preprocessor p = new Preprocessor(low);
    for (int i = 0; i < 8; i++) {
      probe[i] = p.toChw(data.pixels(100 + i), 28, 28);
    }
    float[][][] out = new float[2][][];
    for (int run = 0; run < 2; run++) {
      ComputationGraph g = Architectures.build("resnet-tiny", low, 10, cfg);
      var stats = LocalTrainer.fit(g, x, y, cfg, FashionMnist.INPUT_SPEC,
          new RandomResizedCrop(0.35, 20, 20), null);
      assertThat(stats).hasSize(1);
      assertThat(stats.get(0).meanLoss()).isFinite();
      out[run] = LocalTrainer.predict(g, probe, low);
    }
    assertThat(out[1]).isDeepEqualTo(out[0]);
  }
}
