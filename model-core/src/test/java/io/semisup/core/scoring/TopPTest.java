package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopPTest {

  @Test
  void highestFirstTiesByLowerClass() {
    TopP t = TopP.of(new float[] {0.1f, 0.3f, 0.3f, 0.05f, 0.25f}, 3);
    assertThat(t.classes()).containsExactly(1, 2, 4);
    assertThat(t.probs()).containsExactly(0.3f, 0.3f, 0.25f);
    assertThat(t.size()).isEqualTo(3);
  }

  @Test
  void pIsClippedToTheNumberOfClasses() {
    TopP t = TopP.of(new float[] {0.4f, 0.6f}, 10);
    assertThat(t.classes()).containsExactly(1, 0);
  }

  @Test
  void matchesFullSortOnRandomVectorsWithTies() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      float[] probs = new float[1 + rnd.nextInt(30)];
      for (int i = 0; i < probs.length; i++) {
        probs[i] = rnd.nextInt(5) / 4f;
      }
      int p = 1 + rnd.nextInt(8);
      int[] expected = IntStream.range(0, probs.length).boxed()
          .sorted(Comparator.<Integer>comparingDouble(c -> -probs[c]).thenComparingInt(c -> c))
          .limit(p).mapToInt(Integer::intValue).toArray();
      TopP t = TopP.of(probs, p);
      assertThat(t.classes()).as(Arrays.toString(probs)).containsExactly(expected);
      for (int i = 0; i < t.size(); i++) {
        assertThat(t.probAt(i)).isEqualTo(probs[t.classAt(i)]);
      }
    }
  }

  @Test
  void isImmutableAndComparable() {
    int[] cls = {2, 0};
    TopP t = new TopP(cls, new float[] {0.7f, 0.2f});
    cls[0] = 9;
    t.classes()[1] = 9;
    assertThat(t).isEqualTo(new TopP(new int[] {2, 0}, new float[] {0.7f, 0.2f}));
  }

  @Test
  void rejectsNanAndBadP() {
    assertThatThrownBy(() -> TopP.of(new float[] {0.5f, Float.NaN}, 1)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> TopP.of(new float[] {1f}, 0)).hasMessageContaining("p must be");
  }
}
