package io.semisup.core.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKSelectorTest {

  private static final float[] FEW_SCORES = {0f, 0.1f, 0.5f, 0.5f, 0.9f, 0.99f, 1f};

  private static List<Candidate> randomCandidates(Random rnd, int n, int numClasses) {
    List<Candidate> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // Small id space + small score set: many exact ties on score, decided by id.
      String id = String.format("%08x", rnd.nextInt(n * 4));
      all.add(new Candidate(rnd.nextInt(numClasses), id + "-" + i,
          FEW_SCORES[rnd.nextInt(FEW_SCORES.length)]));
    }
    return all;
  }

  private static List<Candidate> bruteForce(List<Candidate> all, int classId, int k) {
    List<Candidate> mine = new ArrayList<>();
    for (Candidate c : all) {
      if (c.classId() == classId) {
        mine.add(c);
      }
    }
    mine.sort(Candidate.ORDER);
    return mine.subList(0, Math.min(k, mine.size()));
  }

  @Test
  void orderIsScoreDescendingThenIdAscending() {
    List<Candidate> list = new ArrayList<>(List.of(
        new Candidate(0, "b", 0.5f), new Candidate(0, "a", 0.5f), new Candidate(0, "z", 0.9f)));
    list.sort(Candidate.ORDER);
    assertThat(list).extracting(Candidate::imageId).containsExactly("z", "a", "b");
  }

  @Test
  void matchesBruteForceWithManyTies() {
    Random rnd = new Random(42);
    for (int trial = 0; trial < 30; trial++) {
      int numClasses = 1 + rnd.nextInt(4);
      int k = 1 + rnd.nextInt(20);
      List<Candidate> all = randomCandidates(rnd, rnd.nextInt(300), numClasses);
      TopKSelector sel = new TopKSelector(numClasses, k);
      for (Candidate c : all) {
        sel.offer(c.classId(), c.imageId(), c.score());
      }
      for (int c = 0; c < numClasses; c++) {
        assertThat(sel.top(c)).isEqualTo(bruteForce(all, c, k));
        final int cls = c;
        assertThat(sel.offered(c)).isEqualTo(all.stream().filter(x -> x.classId() == cls).count());
      }
    }
  }

  @Test
  void mergeOfPartsEqualsWholeWhateverThePartitioning() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 20; trial++) {
      int numClasses = 3;
      int k = 1 + rnd.nextInt(15);
      List<Candidate> all = randomCandidates(rnd, 400, numClasses);
      Collections.shuffle(all, rnd);
      int parts = 1 + rnd.nextInt(6);
      List<TopKSelector> partial = new ArrayList<>();
      for (int p = 0; p < parts; p++) {
        partial.add(new TopKSelector(numClasses, k));
      }
      for (Candidate c : all) {
        partial.get(rnd.nextInt(parts)).offer(c.classId(), c.imageId(), c.score());
      }
      TopKSelector merged = new TopKSelector(numClasses, k);
      for (TopKSelector p : partial) {
        merged.merge(p);
      }
      for (int c = 0; c < numClasses; c++) {
        assertThat(merged.top(c)).isEqualTo(bruteForce(all, c, k));
        final int cls = c;
        assertThat(merged.offered(c))
            .isEqualTo(all.stream().filter(x -> x.classId() == cls).count());
      }
    }
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    TopKSelector sel = new TopKSelector(2, 2);
    sel.offer(0, "a", 0.3f);
    sel.offer(0, "b", 0.7f);
    sel.offer(1, "c", 0.1f);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(sel);
    }
    TopKSelector back;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (TopKSelector) in.readObject();
    }
    back.offer(0, "d", 0.5f);
    assertThat(back.top(0)).extracting(Candidate::imageId).containsExactly("b", "d");
    assertThat(back.top(1)).extracting(Candidate::imageId).containsExactly("c");
    assertThat(back.offered(0)).isEqualTo(3);
  }

  @Test
  void rejectsBadInput() {
    TopKSelector sel = new TopKSelector(2, 3);
    assertThatThrownBy(() -> sel.offer(2, "x", 0.5f)).hasMessageContaining("Cannot use class 2");
    assertThatThrownBy(() -> sel.offer(0, "x", Float.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> sel.merge(new TopKSelector(2, 4))).hasMessageContaining("k=4");
    assertThatThrownBy(() -> new TopKSelector(2, 0)).hasMessageContaining("k=0");
  }
}
