package io.semisup.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.testing.Prerequisites;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

class LocalTrainerTest {

  @Test
  void learnsFromASmallRealSlice() {
    FashionMnist train = FashionMnist.load(Prerequisites.fashionMnist(), true);
    int[] idx = new int[500];
    int[] evalIdx = new int[500];
    for (int i = 0; i < 500; i++) {
      idx[i] = i;
      evalIdx[i] = 10_000 + i;
    }
    var spec = FashionMnist.INPUT_SPEC;
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(4).withBatchSize(32)
        .withLearningRate(0.05).withAugment(false, 0);
    // Built with a useless learning rate: learning proves fit() installs cfg's schedule.
    ComputationGraph g =
        Architectures.build("resnet-small", spec, 10, cfg.withLearningRate(1e-9));
    List<Integer> epochs = new ArrayList<>();
    var stats = LocalTrainer.fit(g, train.chw(idx, spec), train.labels(idx), cfg, spec,
        epochs::add);
    assertThat(epochs).containsExactly(1, 2, 3, 4);
    assertThat(stats.get(3).meanLoss()).isLessThan(stats.get(0).meanLoss());
    double[] acc = LocalTrainer.evaluate(g, train.chw(evalIdx, spec), train.labels(evalIdx));
    assertThat(acc[0]).isGreaterThan(0.5); // chance is 0.1
    assertThat(acc[1]).isGreaterThanOrEqualTo(acc[0]);
  }

  @Test
  void scheduleShapes() {
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(10).withBatchSize(100)
        .withLearningRate(0.2).withSchedule("onecycle", 0.2);
    var s = cfg.lrSchedule(1000); // 100 iterations, 20 warm-up
    assertThat(s.valueAt(0, 0)).isLessThan(0.05);
    assertThat(s.valueAt(19, 0)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(s.valueAt(60, 0)).isLessThan(0.2).isGreaterThan(0.05);
    assertThat(s.valueAt(99, 0)).isLessThan(0.001);
    var step = cfg.withSchedule("step", 0).lrSchedule(1000);
    assertThat(step.valueAt(10, 0)).isEqualTo(0.2);
    assertThat(step.valueAt(60, 0)).isCloseTo(0.02, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void accuracyCountsTopOneAndTopFive() {
    float[][] p = {{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}};
    double[] acc = LocalTrainer.accuracy(p, new int[] {1, 2});
    assertThat(acc[0]).isEqualTo(0.5);
    assertThat(acc[1]).isEqualTo(1.0);
  }
}
