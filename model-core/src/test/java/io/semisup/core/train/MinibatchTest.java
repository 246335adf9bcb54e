package io.semisup.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class MinibatchTest {

  private static final InputSpec SPEC =
      new InputSpec(2, 2, 1, new float[] {0f}, new float[] {1f});

  private static float[][] images(int n) {
    float[][] x = new float[n][];
    for (int i = 0; i < n; i++) {
      x[i] = new float[] {i, i + 1, i + 2, i + 3};
    }
    return x;
  }

  @Test
  void smoothsOneHotLabels() {
    INDArray[] b = Minibatch.pack(images(2), new int[] {2, 0}, SPEC, 4, Augmenter.NONE, 0.2, new Random(1));
    float[][] l = b[1].toFloatMatrix();
    assertThat(l[0]).containsExactly(new float[] {0.05f, 0.05f, 0.85f, 0.05f}, Offset.offset(1e-6f));
    assertThat(l[1]).containsExactly(new float[] {0.85f, 0.05f, 0.05f, 0.05f}, Offset.offset(1e-6f));
    assertThat(b[0].shape()).containsExactly(2, 1, 2, 2);
    assertThat(b[0].getFloat(1, 0, 1, 1)).isEqualTo(4f);
  }

  @Test
  void softTargetsAreMixedWithTheUniformDistribution() {
    float[][] t = {{0.7f, 0.2f, 0.1f, 0f}, {0f, 0f, 0.5f, 0.5f}};
    INDArray[] b = Minibatch.pack(images(2), t, SPEC, Augmenter.NONE, 0.2, new Random(1));
    float[][] l = b[1].toFloatMatrix();
    assertThat(l[0]).containsExactly(new float[] {0.61f, 0.21f, 0.13f, 0.05f}, Offset.offset(1e-6f));
    assertThat(l[1]).containsExactly(new float[] {0.05f, 0.05f, 0.45f, 0.45f}, Offset.offset(1e-6f));
    // Without smoothing the rows are the targets as given.
    assertThat(Minibatch.pack(images(2), t, SPEC, Augmenter.NONE, 0, new Random(1))[1].toFloatMatrix()[0])
        .containsExactly(t[0]);
  }

  @Test
  void oneHotRowsEqualTheClassIndexPath() {
    float[][] t = {Minibatch.oneHot(3, 4), Minibatch.oneHot(1, 4)};
    INDArray soft = Minibatch.pack(images(2), t, SPEC, Augmenter.NONE, 0.1, new Random(1))[1];
    INDArray hard = Minibatch.pack(images(2), new int[] {3, 1}, SPEC, 4, Augmenter.NONE, 0.1, new Random(1))[1];
    assertThat(soft).isEqualTo(hard);
  }

  @Test
  void rejectsMismatchedInputs() {
    assertThatThrownBy(() -> Minibatch.pack(images(2), new float[1][4], SPEC, Augmenter.NONE, 0, new Random(1)))
        .hasMessageContaining("2 examples with 1 target rows");
    assertThatThrownBy(() -> Minibatch.oneHot(4, 4)).hasMessageContaining("label 4 of 4 classes");
  }
}
