package io.semisup.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration table is the generated one, so the two cannot disagree. */
class SettingsReferenceTest {

  @Test
  void readmeTableEqualsTheGeneratedOne() throws Exception {
    // Surefire runs in the module directory; the README is the project's.
    String readme = Files.readString(Path.of("..", "README.md"));
    int begin = readme.indexOf(SettingsReference.BEGIN);
    int end = readme.indexOf(SettingsReference.END);
    assertThat(begin).as("README marker %s", SettingsReference.BEGIN).isNotNegative();
    assertThat(end).as("README marker %s", SettingsReference.END).isGreaterThan(begin);
    String inReadme = readme.substring(begin + SettingsReference.BEGIN.length() + 1, end);
    assertThat(inReadme)
        .as("README's configuration table; regenerate it with bin/semisup config --markdown")
        .isEqualTo(SettingsReference.markdown());
  }

  @Test
  void tableHasOneRowPerKeyWithItsDefaultAndRange() {
    String md = SettingsReference.markdown();
    assertThat(md.lines().count()).isEqualTo(2 + SettingsSchema.all().size());
    assertThat(md).contains("| `select.k` | int | `10000` | >= 1 |")
        .contains("| `select.mode` | enum | `balanced` | balanced, threshold |")
        .contains("| `score.intra-op-threads` | int | `0` | >= 0 |");
  }
}
