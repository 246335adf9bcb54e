package io.semisup.core.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.testing.FashionMnistFixture;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Planted copies, exact search, sign random projections and threshold calibration. */
class DedupBuildingBlocksTest {

  private static float[] unit(Random rnd, int dim) {
    float[] v = new float[dim];
    for (int k = 0; k < dim; k++) {
      v[k] = (float) rnd.nextGaussian();
    }
    return Embeddings.normalize(v);
  }

  @Test
  void alteredCopiesAreSeededAndChangeTheImage() {
    byte[] img = FashionMnistFixture.train().pixels(0);
    byte[] a = CopyAlterations.alter(img, 28, new Random(3));
    byte[] b = CopyAlterations.alter(img, 28, new Random(3));
    assertThat(a).hasSize(784).isEqualTo(b).isNotEqualTo(img);
    CopyAlterations.Applied[] applied = new CopyAlterations.Applied[1];
    Random rnd = new Random(9);
    int flips = 0;
    for (int i = 0; i < 200; i++) {
      CopyAlterations.alter(img, 28, rnd, applied);
      assertThat(applied[0].cropArea()).isBetween(0.4, 1.0);
      assertThat(applied[0].jpegQuality()).isBetween(30, 90);
      assertThat(Math.abs(applied[0].rotationDegrees())).isLessThanOrEqualTo(10.0);
      flips += applied[0].flipped() ? 1 : 0;
    }
    assertThat(flips).isBetween(70, 130);
    assertThatThrownBy(() -> CopyAlterations.alter(new byte[10], 28, new Random(1)))
        .hasMessageContaining("28x28");
  }

  @Test
  void exactSearchFindsTheBruteForceBest() {
    Random rnd = new Random(5);
    float[][] refs = new float[1300][];
    for (int i = 0; i < refs.length; i++) {
      refs[i] = unit(rnd, 16);
    }
    float[][] queries = new float[50][];
    for (int i = 0; i < queries.length; i++) {
      queries[i] = unit(rnd, 16);
    }
    ExactSearch.Match[] got = new ExactSearch(refs).best(queries);
    for (int i = 0; i < queries.length; i++) {
      int arg = -1;
      float best = -2;
      for (int r = 0; r < refs.length; r++) {
        float s = SignLsh.dot(queries[i], refs[r]);
        if (s > best) {
          best = s;
          arg = r;
        }
      }
      assertThat(got[i].index()).isEqualTo(arg);
      assertThat(got[i].similarity()).isEqualTo(best);
    }
  }

  @Test
  void signProjectionsKeepNearVectorsTogetherAndSplitOthers() {
    Random rnd = new Random(8);
    SignLsh lsh = new SignLsh(32, 8, 12, null, 1);
    int nearShared = 0;
    int farShared = 0;
    for (int i = 0; i < 200; i++) {
      float[] v = unit(rnd, 32);
      float[] near = v.clone();
      for (int k = 0; k < near.length; k++) {
        near[k] += (float) (0.05 * rnd.nextGaussian());
      }
      Embeddings.normalize(near);
      float[] far = unit(rnd, 32);
      nearShared += shareAKey(lsh.keys(v), lsh.keys(near)) ? 1 : 0;
      farShared += shareAKey(lsh.keys(v), lsh.keys(far)) ? 1 : 0;
    }
    assertThat(nearShared).isGreaterThan(190);
    assertThat(farShared).isLessThan(10);
  }

  private static boolean shareAKey(int[] a, int[] b) {
    for (int t = 0; t < a.length; t++) {
      if (a[t] == b[t]) {
        return true;
      }
    }
    return false;
  }

  @Test
  void calibrationPicksTheHighestRecallAtThePrecision() {
    Calibration.Item[] items = {
      new Calibration.Item(0.99f, true, true),
      new Calibration.Item(0.97f, true, true),
      new Calibration.Item(0.95f, false, false),
      new Calibration.Item(0.93f, true, true),
      new Calibration.Item(0.90f, true, false), // a copy matched to the wrong source
      new Calibration.Item(0.50f, false, false),
    };
    Calibration.Point p = Calibration.pick(items, 0.99);
    assertThat(p.threshold()).isEqualTo(0.97f);
    assertThat(p.recall()).isEqualTo(0.5);
    Calibration.Point loose = Calibration.pick(items, 0.7);
    assertThat(loose.threshold()).isEqualTo(0.93f);
    assertThat(loose.recall()).isEqualTo(0.75);
    Calibration.Point at = Calibration.at(items, 0.90f);
    assertThat(at.flagged()).isEqualTo(5);
    assertThat(at.precision()).isEqualTo(0.6);
  }

  @Test
  void pixelEmbeddingIsInvariantToBrightnessAndContrast() {
    float[] x = unit(new Random(2), 50);
    float[] y = x.clone();
    for (int k = 0; k < y.length; k++) {
      y[k] = 3 * y[k] + 7;
    }
    float[][] e = Embeddings.pixels(new float[][] {x, y});
    assertThat(SignLsh.dot(e[0], e[1])).isGreaterThan(0.9999f);
  }
}
