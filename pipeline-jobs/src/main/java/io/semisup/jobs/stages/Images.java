package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.tables.Tables;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Reads one split of the run's image shards (partition pruning keeps it to that split's files). */
final class Images {

  private Images() {}

  static Dataset<Row> split(RunContext ctx, String split) {
    return Tables.IMAGES.read(ctx).filter(col("split").equalTo(split));
  }
}
