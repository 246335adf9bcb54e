package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A committed stage's recorded settings against today's: every change is a difference, except a
 * key added to semisup after the stage committed that holds the value reproducing what it did.
 */
class StageIdentityTest {

  private static StageIdentity today(String... keyValues) {
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return new StageIdentity(m, List.of());
  }

  private static ObjectNode recorded(String... keyValues) {
    ObjectNode o = RunContext.json().createObjectNode();
    for (int i = 0; i < keyValues.length; i += 2) {
      o.put(keyValues[i], keyValues[i + 1]);
    }
    return o;
  }

  @Test
  void aKeyAddedLaterAtItsNeutralValueIsNoDifference() {
    ObjectNode before = recorded("student.epochs", "8");
    // RandAugment did not exist when this stage committed: off (0 operations) is what it did.
    assertThat(today("student.epochs", "8", "student.randaugment-ops", "0",
        "student.randaugment-magnitude", "9").differences(before)).isEmpty();
    // On, it is a change the stage never saw.
    assertThat(today("student.epochs", "8", "student.randaugment-ops", "2",
        "student.randaugment-magnitude", "9").differences(before))
        .containsExactly("student.randaugment-ops is new (= 2)");
    // A key that has always existed is a difference when a manifest lacks it.
    assertThat(today("student.epochs", "8", "student.label-smoothing", "0").differences(before))
        .containsExactly("student.label-smoothing is new (= 0)");
    // Recorded and changed: a difference, whatever its neutral value.
    assertThat(today("student.epochs", "8", "student.randaugment-ops", "0").differences(
        recorded("student.epochs", "8", "student.randaugment-ops", "1")))
        .containsExactly("student.randaugment-ops changed (1 -> 0)");
  }
}
