package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/** The trainer's minibatches with a RandomResizedCrop: decoded at 28 px, trained at 20, seeded. */
class SparkTrainerCropTest {

  private static final InputSpec DATA = new InputSpec(28, 28, 1, new float[] {0.3f}, new float[] {0.35f});

  private static List<SparkTrainer.Example> examples() {
    Random rnd = new Random(1);
    List<SparkTrainer.Example> out = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      float[] x = new float[DATA.size()];
      for (int j = 0; j < x.length; j++) {
        x[j] = (float) rnd.nextGaussian();
      }
      out.add(new SparkTrainer.Example(x, i % 3));
    }
    return out;
  }

  @Test
  void cropsEveryImageToTheTrainingResolutionTheSameWayForOneSeed() {
    TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(4);
    InputSpec train = DATA.withSize(20, 20);
    RandomResizedCrop crop = new RandomResizedCrop(0.35, 20, 20);
    Iterator<DataSet> a = SparkTrainer.minibatches(examples().iterator(), cfg, train, crop, DATA, Augmenter.NONE, 3, 0f, 7);
    Iterator<DataSet> b = SparkTrainer.minibatches(examples().iterator(), cfg, train, crop, DATA, Augmenter.NONE, 3, 0f, 7);
    Iterator<DataSet> c = SparkTrainer.minibatches(examples().iterator(), cfg, train, crop, DATA, Augmenter.NONE, 3, 0f, 8);
    DataSet first = a.next();
    assertThat(first.getFeatures().shape()).containsExactly(4, 1, 20, 20);
    assertThat(first.getFeatures()).isEqualTo(b.next().getFeatures());
    assertThat(first.getFeatures()).isNotEqualTo(c.next().getFeatures());
  }
}
