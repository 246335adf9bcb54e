package io.semisup.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The settings part of a stage's --help: which keys, their defaults, the wrapping. */
class SettingsHelpTest {

  @Test
  void aSectionGivesItsKeysInDeclarationOrderAndAKeyGivesItself() {
    List<String> keys = SettingsHelp.under(List.of("select", "seed")).stream().map(Setting::key).toList();
    assertThat(keys).contains("select.k", "select.p", "seed").doesNotContain("score.top-p");
    assertThat(keys.indexOf("seed")).isLessThan(keys.indexOf("select.k"));
    // "select" is a section, not a prefix of every key that starts with those letters.
    assertThat(SettingsHelp.under(List.of("score")).stream().map(Setting::key))
        .allMatch(k -> k.startsWith("score."));
  }

  @Test
  void eachKeyLineCarriesTheDefaultOfDefaultsConf() {
    List<String> lines = SettingsHelp.lines(List.of("select.k"), 80);
    String expected = String.valueOf(SemisupConfig.defaultsTree().getValue("select.k").unwrapped());
    assertThat(lines.get(0)).isEqualTo("  select.k = " + expected);
    assertThat(lines.get(1)).startsWith("      ").contains(SettingsSchema.get("select.k").doc().split(" ")[0]);
  }

  @Test
  void aSettingThatCannotChangeAResultSaysSo() {
    String joined = String.join(" ", SettingsHelp.lines(List.of("score.progress-log-seconds"), 80))
        .replaceAll("\\s+", " ");
    assertThat(joined).contains("Cannot change a result.");
  }

  @Test
  void anEmptyDefaultIsShownAsSuch() {
    assertThat(SettingsHelp.lines(List.of("teacher.init-from"), 80).get(0))
        .isEqualTo("  teacher.init-from = (empty)");
  }

  @Test
  void wrapKeepsWordsWholeAndIndentsEveryLine() {
    assertThat(SettingsHelp.wrap("one two three four five six seven", "    ", 16))
        .containsExactly("    one two", "    three four", "    five six", "    seven");
    assertThat(SettingsHelp.wrap("averyveryverylongword x", "  ", 8))
        .containsExactly("  averyveryverylongword", "  x");
  }
}
