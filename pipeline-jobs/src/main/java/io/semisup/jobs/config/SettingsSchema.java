package io.semisup.jobs.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Every declared setting, in the order of {@code conf/defaults.conf}. The one list the reader,
 * the unknown-key check, the reference table and stage identity ({@link #nonResultKeys()}) share.
 */
public final class SettingsSchema {

  private static final List<Setting> ALL = collect();
  private static final Map<String, Setting> BY_KEY = index(ALL);

  private SettingsSchema() {}

  private static List<Setting> collect() {
    List<Setting> all = new ArrayList<>(RunSettings.SCHEMA);
    all.addAll(SparkSettings.SCHEMA);
    all.addAll(DataSettings.SCHEMA);
    all.addAll(ShardSettings.SCHEMA);
    all.addAll(ModelSettings.SCHEMA);
    all.addAll(TrainSettings.schema("train-defaults"));
    all.addAll(TeacherSettings.SCHEMA);
    all.addAll(StudentSettings.SCHEMA);
    all.addAll(TrainSettings.schema("finetune"));
    all.addAll(FixresSettings.SCHEMA);
    all.addAll(ScoreSettings.SCHEMA);
    all.addAll(SelectSettings.SCHEMA);
    all.addAll(ReportSettings.SCHEMA);
    all.addAll(AblateSettings.SCHEMA);
    all.addAll(KernelSettings.SCHEMA);
    all.addAll(AuditSettings.SCHEMA);
    all.addAll(DedupSettings.SCHEMA);
    return List.copyOf(all);
  }

  private static Map<String, Setting> index(List<Setting> all) {
    Map<String, Setting> byKey = new LinkedHashMap<>();
    for (Setting s : all) {
      if (byKey.put(s.key(), s) != null) {
        throw new IllegalStateException("Setting " + s.key() + " is declared twice");
      }
    }
    return byKey;
  }

  /** Every declared setting, in the order of conf/defaults.conf. */
  public static List<Setting> all() {
    return ALL;
  }

  /** The declaration of a key (relative to {@code semisup}); a key nobody declared is a bug. */
  public static Setting get(String key) {
    Setting s = BY_KEY.get(key);
    if (s == null) {
      throw new IllegalStateException("Setting " + key + " is read but not declared in io.semisup.jobs.config");
    }
    return s;
  }

  /**
   * What a stage committed before {@code key} existed did, as the value HOCON renders ({@link
   * Setting#absentMeans}); empty when the key is not declared as added later, so that its
   * absence from a recorded identity is a difference.
   */
  public static Optional<String> absentMeans(String key) {
    Setting s = BY_KEY.get(key);
    return s == null || s.absentMeans().isEmpty() ? Optional.empty() : Optional.of(s.absentMeans());
  }

  /** Whether a key (relative to {@code semisup}) is declared. */
  public static boolean isKnown(String key) {
    return BY_KEY.containsKey(key);
  }

  /**
   * The declared key a resolved leaf path belongs to: the path itself, or the {@link
   * SettingType#MAP} setting it lies under ({@code spark.conf."spark.ui.enabled"} -> {@code
   * spark.conf}); null when nothing declares it.
   */
  static String declaredKeyOf(String leaf) {
    if (BY_KEY.containsKey(leaf)) {
      return leaf;
    }
    for (Setting s : ALL) {
      if (s.type() == SettingType.MAP && leaf.startsWith(s.key() + ".")) {
        return s.key();
      }
    }
    return null;
  }

  /**
   * Keys that cannot change any stage's result (threads, progress logging, inference batch sizes,
   * Spark settings, where runs live): stage identity leaves them out of its fingerprint.
   */
  public static SortedSet<String> nonResultKeys() {
    SortedSet<String> keys = new TreeSet<>();
    for (Setting s : ALL) {
      if (!s.affectsResult()) {
        keys.add(s.key());
      }
    }
    return keys;
  }

  /**
   * The {@link #nonResultKeys()} under the given sections or keys, e.g. a stage's {@code
   * configKeys()} ({@code ["score", "seed"]} gives {@code score.batch-size}, ...).
   */
  public static SortedSet<String> nonResultKeys(Collection<String> sectionsOrKeys) {
    SortedSet<String> keys = new TreeSet<>();
    for (String key : nonResultKeys()) {
      for (String prefix : sectionsOrKeys) {
        if (key.equals(prefix) || key.startsWith(prefix + ".")) {
          keys.add(key);
        }
      }
    }
    return keys;
  }
}
