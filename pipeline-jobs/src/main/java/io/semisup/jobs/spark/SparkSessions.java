package io.semisup.jobs.spark;

import io.semisup.core.dl4j.Dl4jPatches;
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

  /**
   * The session of a command, after installing the DL4J patches its {@code kernels.*} settings
   * ask for (executors receive the same options with each training task).
   */
  public static SparkSession create(SemisupConfig config) {
    Dl4jPatches.install(config.settings().kernels().patches());
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(config.settings().spark().master());
    }
    conf.setIfMissing("spark.app.name", config.settings().spark().appName());
    for (Map.Entry<String, String> e : config.settings().spark().conf().entrySet()) {
      conf.setIfMissing(e.getKey(), e.getValue());
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
