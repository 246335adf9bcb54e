package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.config.SettingsSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a committed stage was computed from: the resolved settings it read (readable, key by key)
 * and the manifests of the committed stages it read. Two runs of a stage with equal identities
 * compute the same thing, so a committed output is reused only when its recorded identity equals
 * the one the current command would run with (the content-addressed chain of Make, DVC or Bazel).
 *
 * <p>Inputs are identified by the SHA-256 of their {@code manifest.json}, which carries a unique
 * commit id: recomputing a stage (even with the same settings) changes its manifest, so every
 * stage that read the old output becomes stale and is recomputed by the next command that runs it.
 *
 * <p>Settings that cannot change a result (threads, progress logging, how inference is batched
 * and grouped: those declared with {@code affectsResult = false} in the settings schema) are left
 * out of the identity and listed as excluded in the manifest.
 */
public record StageIdentity(SortedMap<String, String> settings, List<String> excluded) {

  /** The identity of a stage reading the given configuration paths (subtrees or single keys). */
  static StageIdentity of(SemisupConfig config, List<String> paths) {
    SortedMap<String, String> settings = new TreeMap<>();
    List<String> excluded = new ArrayList<>();
    Set<String> nonResult = SettingsSchema.nonResultKeys(paths);
    for (String path : paths) {
      Config sub = config.raw().hasPathOrNull(path)
          ? config.raw().withOnlyPath(path) : com.typesafe.config.ConfigFactory.empty();
      for (Map.Entry<String, ConfigValue> e : sub.entrySet()) {
        String key = e.getKey();
        if (nonResult.contains(key)) {
          excluded.add(key);
        } else {
          settings.put(key, e.getValue().render(ConfigRenderOptions.concise()));
        }
      }
    }
    excluded.sort(null);
    return new StageIdentity(settings, List.copyOf(excluded));
  }

  /** The settings as a JSON object for the manifest (values as HOCON renders them). */
  ObjectNode settingsJson() {
    ObjectNode o = RunContext.json().createObjectNode();
    settings.forEach(o::put);
    return o;
  }

  /**
   * How the recorded settings of a committed stage differ from these: one entry per key,
   * {@code select.k changed (5000 -> 500)}, {@code select.x added (= 1)}, {@code select.y removed}.
   */
  List<String> differences(JsonNode recorded) {
    List<String> diffs = new ArrayList<>();
    SortedMap<String, String> old = new TreeMap<>();
    recorded.fields().forEachRemaining(e -> old.put(e.getKey(), e.getValue().asText()));
    for (Map.Entry<String, String> e : settings.entrySet()) {
      String was = old.get(e.getKey());
      if (was == null) {
        // A key added after this stage committed, at the value that reproduces what it did.
        if (!SettingsSchema.absentMeans(e.getKey()).map(e.getValue()::equals).orElse(false)) {
          diffs.add(e.getKey() + " is new (= " + e.getValue() + ")");
        }
      } else if (!was.equals(e.getValue())) {
        diffs.add(e.getKey() + " changed (" + was + " -> " + e.getValue() + ")");
      }
    }
    for (String k : old.keySet()) {
      if (!settings.containsKey(k)) {
        diffs.add(k + " is no longer read (was " + old.get(k) + ")");
      }
    }
    return diffs;
  }
}
