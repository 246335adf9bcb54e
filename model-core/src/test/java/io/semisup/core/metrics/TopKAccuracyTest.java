package io.semisup.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.scoring.TopP;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKAccuracyTest {

  @Test
  void countsTop1AndTop5() {
    TopKAccuracy acc = new TopKAccuracy();
    float[] probs = {0.30f, 0.20f, 0.15f, 0.12f, 0.10f, 0.08f, 0.05f};
    acc.add(probs, 0); // top-1
    acc.add(probs, 4); // rank 4: top-5
    acc.add(probs, 5); // rank 5: neither
    assertThat(acc.count()).isEqualTo(3);
    assertThat(acc.top1()).isEqualTo(1.0 / 3);
    assertThat(acc.top5()).isEqualTo(2.0 / 3);
  }

  @Test
  void tiesRankLowerClassFirst() {
    TopKAccuracy acc = new TopKAccuracy();
    acc.add(new float[] {0.5f, 0.5f}, 0);
    acc.add(new float[] {0.5f, 0.5f}, 1);
    assertThat(acc.top1()).isEqualTo(0.5);
  }

  @Test
  void vectorAndTopPAgree() {
    Random rnd = new Random(4);
    TopKAccuracy fromProbs = new TopKAccuracy();
    TopKAccuracy fromTopP = new TopKAccuracy();
    for (int i = 0; i < 500; i++) {
      float[] p = new float[10];
      for (int c = 0; c < 10; c++) {
        p[c] = rnd.nextInt(6);
      }
      int label = rnd.nextInt(10);
      fromProbs.add(p, label);
      fromTopP.add(TopP.of(p, 5), label);
    }
    assertThat(fromTopP.top1()).isEqualTo(fromProbs.top1());
    assertThat(fromTopP.top5()).isEqualTo(fromProbs.top5());
  }

  @Test
  void mergesAndStartsAtNan() {
    TopKAccuracy a = new TopKAccuracy();
    assertThat(a.top1()).isNaN();
    TopKAccuracy b = new TopKAccuracy();
    a.add(new float[] {1f, 0f}, 0);
    b.add(new float[] {1f, 0f}, 1);
    assertThat(a.merge(b).top1()).isEqualTo(0.5);
    assertThat(a.count()).isEqualTo(2);
    assertThatThrownBy(() -> a.add(new float[] {1f}, 3)).hasMessageStartingWith("Cannot count");
  }

  @Test
  void metricsSurviveJavaSerialization() throws Exception {
    TopKAccuracy a = new TopKAccuracy();
    a.add(new float[] {1f, 0f}, 0);
    assertThat(roundTrip(a).top1()).isEqualTo(1.0);
    PrecisionReport r = new PrecisionReport(2);
    r.add(1, 0);
    assertThat(roundTrip(r).assigned(1)).isEqualTo(1);
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T o) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
