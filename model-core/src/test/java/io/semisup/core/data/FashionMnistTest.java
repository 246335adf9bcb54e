package io.semisup.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import io.semisup.core.testing.Prerequisites;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  @Test
  void readsTheRealTestSplit() {
    FashionMnist test = FashionMnist.load(Prerequisites.fashionMnist(), false);
    assertThat(test.size()).isEqualTo(10_000);
    int[] counts = new int[10];
    for (int i = 0; i < test.size(); i++) {
      counts[test.label(i)]++;
    }
    assertThat(counts).containsOnly(1000); // the test split is balanced
    assertThat(test.label(0)).isEqualTo(9); // first test image is an ankle boot
    byte[] px = test.pixels(0);
    assertThat(px).hasSize(784);
    int nonZero = 0;
    for (byte b : px) {
      nonZero += b != 0 ? 1 : 0;
    }
    assertThat(nonZero).isBetween(100, 700);
    float[] chw = test.chw(0, FashionMnist.INPUT_SPEC);
    assertThat(chw[0]).isEqualTo((0 - 0.2860f) / 0.3530f); // corner pixel is background
  }

  @Test
  void readsTheTrainSplit() {
    FashionMnist train = FashionMnist.load(Prerequisites.fashionMnist(), true);
    assertThat(train.size()).isEqualTo(60_000);
    assertThat(FashionMnist.CLASS_NAMES).hasSize(10).contains("ankle_boot", "t-shirt_top");
  }

  @Test
  void missingFileNamesItAndThePackage(@TempDir Path empty) {
    assertThatThrownBy(() -> FashionMnist.load(empty, true))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining("train-images-idx3-ubyte.gz")
        .hasMessageContaining("apt-get install -y dataset-fashion-mnist");
  }
}
