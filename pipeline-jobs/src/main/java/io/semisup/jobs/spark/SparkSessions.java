package io.semisup.jobs.spark;

import com.typesafe.config.ConfigValue;
import io.semisup.jobs.config.SemisupConfig;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Creates the Spark session a run uses. Under spark-submit the master and resources come from
 * spark-submit; when launched directly (bin/semisup, tests) the configured master is used.
 */
public final class SparkSessions {

  private SparkSessions() {}

  public static SparkSession create(SemisupConfig config) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.getString("spark.master"));
    }
    conf.setIfMissing("spark.app.name", config.getString("spark.app-name"));
    for (Map.Entry<String, ConfigValue> e : config.getConfig("spark.conf").entrySet()) {
      // Keys like "spark.ui.enabled" are quoted in HOCON; entrySet gives them quoted.
      String key = e.getKey().replace("\"", "");
      conf.setIfMissing(key, String.valueOf(e.getValue().unwrapped()));
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
