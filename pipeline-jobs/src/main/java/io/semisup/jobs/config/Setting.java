package io.semisup.jobs.config;

import java.util.List;

/**
 * One configuration key, declared once: its name (relative to {@code semisup}), type, accepted
 * values, a one-line doc, and whether it can change a stage's result.
 *
 * <p>The default is not here: defaults live only in {@code conf/defaults.conf}. {@code
 * affectsResult} is false for keys that change how fast or how verbosely a stage runs, never what
 * it writes (threads, progress logging, inference batch sizes, Spark settings), so that stage
 * identity can ignore them.
 *
 * @param key dotted path under {@code semisup}, e.g. {@code select.k}
 * @param range accepted numbers (numeric types and numeric lists; {@link Range#ANY} otherwise)
 * @param values accepted values of {@link SettingType#ENUM} and {@link SettingType#ENUM_LIST}, else empty
 * @param otherFix what else fixes a bad value besides correcting it (ends the error message), or empty
 * @param absentMeans for a key added after runs were committed without it: the value (as HOCON
 *     renders it, e.g. {@code 0}) that reproduces what those runs did, so that a committed stage
 *     that never recorded the key is reused while the key holds that value; empty for keys that
 *     have always existed
 */
public record Setting(
    String key, SettingType type, Range range, List<String> values, String doc, boolean affectsResult,
    String otherFix, String absentMeans) {

  public Setting {
    values = List.copyOf(values);
  }

  Setting(String key, SettingType type, Range range, List<String> values, String doc, boolean affectsResult) {
    this(key, type, range, values, doc, affectsResult, "", "");
  }

  static Setting integer(String key, Range range, String doc) {
    return new Setting(key, SettingType.INT, range, List.of(), doc, true);
  }

  static Setting whole(String key, Range range, String doc) {
    return new Setting(key, SettingType.LONG, range, List.of(), doc, true);
  }

  static Setting real(String key, Range range, String doc) {
    return new Setting(key, SettingType.DOUBLE, range, List.of(), doc, true);
  }

  static Setting flag(String key, String doc) {
    return new Setting(key, SettingType.BOOLEAN, Range.ANY, List.of(), doc, true);
  }

  static Setting text(String key, String doc) {
    return new Setting(key, SettingType.STRING, Range.ANY, List.of(), doc, true);
  }

  static Setting path(String key, String doc) {
    return new Setting(key, SettingType.PATH, Range.ANY, List.of(), doc, true);
  }

  static Setting choice(String key, List<String> values, String doc) {
    return new Setting(key, SettingType.ENUM, Range.ANY, values, doc, true);
  }

  static Setting intList(String key, Range each, String doc) {
    return new Setting(key, SettingType.INT_LIST, each, List.of(), doc, true);
  }

  static Setting longList(String key, Range each, String doc) {
    return new Setting(key, SettingType.LONG_LIST, each, List.of(), doc, true);
  }

  static Setting realList(String key, Range each, String doc) {
    return new Setting(key, SettingType.DOUBLE_LIST, each, List.of(), doc, true);
  }

  static Setting textList(String key, String doc) {
    return new Setting(key, SettingType.STRING_LIST, Range.ANY, List.of(), doc, true);
  }

  static Setting choiceList(String key, List<String> values, String doc) {
    return new Setting(key, SettingType.ENUM_LIST, Range.ANY, values, doc, true);
  }

  static Setting map(String key, String doc) {
    return new Setting(key, SettingType.MAP, Range.ANY, List.of(), doc, true);
  }

  /** The same setting marked as unable to change a result (threads, logging, batching). */
  Setting noResult() {
    return new Setting(key, type, range, values, doc, false, otherFix, absentMeans);
  }

  /**
   * The same setting, declared as added after runs were committed without it: those runs behaved
   * as if it held {@code value} (rendered as HOCON renders it, e.g. {@code 0}).
   */
  Setting addedLater(String value) {
    return new Setting(key, type, range, values, doc, affectsResult, otherFix, value);
  }

  /** The same setting with another way out for the error message, e.g. "set x=false to ...". */
  Setting orElse(String fix) {
    return new Setting(key, type, range, values, doc, affectsResult, fix, absentMeans);
  }

  /** The accepted values or range as the reference table shows them; empty when anything goes. */
  public String allowed() {
    if (!values.isEmpty()) {
      return String.join(", ", values);
    }
    return range.describe();
  }

  /** What a valid value looks like, for error messages: "a whole number >= 1". */
  String expectation() {
    String what = type.expectation();
    if (!values.isEmpty()) {
      return what + " " + String.join(", ", values);
    }
    String r = range.describe();
    if (r.isEmpty()) {
      return what;
    }
    return type.name().endsWith("_LIST") ? what + ", each " + r : what + " " + r;
  }
}
