package io.semisup.jobs.inspect;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.stages.ImportFashionMnistStage;
import io.semisup.jobs.stages.RunContext;
import java.io.IOException;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The unlabelled images' true labels where a run knows them ({@code data.hidden-labels}, or the
 * file the Fashion-MNIST import writes), the same file the evaluate stage measures precision
 * with. They are joined to pseudo-labels by file name, as evaluate does.
 */
public final class HiddenLabels {

  private HiddenLabels() {}

  /** Rows (file, true_name), or empty when the run has no hidden labels. */
  public static Optional<Dataset<Row>> read(RunContext ctx) throws IOException {
    String configured = ctx.settings().data().hiddenLabels();
    Path file =
        configured.isEmpty()
            ? new Path(ctx.stageDir(ImportFashionMnistStage.NAME), ImportFashionMnistStage.HIDDEN_LABELS)
            : new Path(configured);
    if (!ctx.fs().exists(file)) {
      return Optional.empty();
    }
    // RFC 4180 quoting ("" inside quotes), as Python's csv module and spreadsheets write it.
    return Optional.of(ctx.spark().read().option("header", "true").option("escape", "\"").csv(file.toString())
        .select(col("file"), col("label_name").as("true_name")));
  }

  /** The pseudo-labels with their true class name (null where the file has none). */
  public static Dataset<Row> join(Dataset<Row> pseudo, Dataset<Row> hidden) {
    return pseudo.withColumn("file", functions.element_at(functions.split(col("uri"), "/"), -1))
        .join(hidden, "file", "left")
        .drop("file");
  }
}
