package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.map;
import static io.semisup.jobs.config.Setting.text;

import java.util.List;
import java.util.Map;

/** How the Spark session is made when not launched by spark-submit; none of it changes a result. */
public record SparkSettings(String master, String appName, Map<String, String> conf) {

  static final List<Setting> SCHEMA = List.of(
      text("spark.master", "Spark master when not launched by spark-submit (whose --master wins).").noResult(),
      text("spark.app-name", "Spark application name.").noResult(),
      map("spark.conf", "Extra Spark settings passed to the session as is (free-form keys, quoted).").noResult());

  public SparkSettings {
    conf = Map.copyOf(conf);
  }

  static SparkSettings from(SettingsReader r) {
    return new SparkSettings(r.stringOf("spark.master"), r.stringOf("spark.app-name"), r.mapOf("spark.conf"));
  }
}
