package io.semisup.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.image.ContentHash;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashSplitTest {

  private static List<String> ids(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(ContentHash.of(("image " + i).getBytes(StandardCharsets.UTF_8)));
    }
    return ids;
  }

  @Test
  void deterministicDisjointAndAboutHalf() {
    List<String> ids = ids(10_000);
    HashSplit split = new HashSplit(42);
    long suspect = ids.stream().filter(split::isSuspect).count();
    assertThat(suspect / 10_000.0).isBetween(0.48, 0.52);
    // Same id and seed, same side, in any order and from a new instance.
    HashSplit again = new HashSplit(42);
    for (int i = ids.size() - 1; i >= 0; i--) {
      assertThat(again.isSuspect(ids.get(i))).isEqualTo(split.isSuspect(ids.get(i)));
    }
    // Sequential names split evenly too.
    long named = java.util.stream.IntStream.range(0, 2000).mapToObj(i -> "img-" + i).filter(split::isSuspect).count();
    assertThat(named / 2000.0).isBetween(0.45, 0.55);
  }

  @Test
  void anotherSeedIsAnIndependentResplit() {
    List<String> ids = ids(4000);
    HashSplit a = new HashSplit(1);
    HashSplit b = new HashSplit(2);
    long agree = ids.stream().filter(id -> a.isSuspect(id) == b.isSuspect(id)).count();
    assertThat(agree / 4000.0).isBetween(0.46, 0.54);
  }
}
