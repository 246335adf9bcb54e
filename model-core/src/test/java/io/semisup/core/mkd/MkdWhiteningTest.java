package io.semisup.core.mkd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.semisup.core.UsageError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MkdWhiteningTest {

  @TempDir Path dir;

  /** Axis-aligned Gaussian data: dimension k has mean 3 and standard deviation k + 1. */
  private static float[] data(int n, int d, long seed) {
    Random random = new Random(seed);
    float[] x = new float[n * d];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < d; k++) {
        x[i * d + k] = (float) (3 + (k + 1) * random.nextGaussian());
      }
    }
    return x;
  }

  @Test
  void eigenvaluesAreTheVariancesLargestFirstAndTheOutputIsUnitLength() {
    int n = 4000;
    int d = 6;
    MkdWhitening w = MkdWhitening.learn(data(n, d, 1), n, d, 3, -0.35);
    double[] eig = w.eigenvalues();
    // Variances 36, 25, 16 (dimensions 6, 5, 4), within sampling error.
    assertThat(eig[0]).isCloseTo(36, within(3.0));
    assertThat(eig[1]).isCloseTo(25, within(2.5));
    assertThat(eig[2]).isCloseTo(16, within(1.5));
    float[] y = w.apply(data(5, d, 2), 5);
    double norm = 0;
    for (int k = 0; k < 3; k++) {
      norm += y[k] * y[k];
    }
    assertThat(norm).isCloseTo(1, within(1e-5));
  }

  @Test
  void writesAndReadsBackTheSameTransform() throws Exception {
    int n = 500;
    int d = 10;
    MkdWhitening w = MkdWhitening.learn(data(n, d, 4), n, d, 5, -0.35);
    Path file = dir.resolve("whitening.bin");
    w.write(file);
    MkdWhitening back = MkdWhitening.read(file);
    float[] x = data(7, d, 5);
    assertThat(back.apply(x, 7)).containsExactly(w.apply(x, 7));
    assertThat(back.eigenvalues()).containsExactly(w.eigenvalues());
  }

  @Test
  void tooFewDescriptorsOrAForeignFileAreNamed() throws Exception {
    assertThatThrownBy(() -> MkdWhitening.learn(new float[10 * 20], 10, 20, 5, -0.35))
        .hasMessageContaining("Give more than 20 descriptors");
    Path junk = dir.resolve("junk.bin");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    assertThatThrownBy(() -> MkdWhitening.read(junk)).isInstanceOf(UsageError.class)
        .hasMessageContaining("junk.bin");
  }
}
