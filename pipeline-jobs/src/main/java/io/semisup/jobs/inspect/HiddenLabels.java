package io.semisup.jobs.inspect;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.stages.ImportFashionMnistStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ShardStage;
import io.semisup.jobs.stages.TruthFile;
import java.io.IOException;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The unlabelled images' true labels where a run knows them ({@code data.hidden-labels}, or the
 * file the Fashion-MNIST import writes): the same {@link TruthFile} the evaluate stage measures
 * precision with, joined to pseudo-labels on the full URI as evaluate does (never the base name,
 * which repeats across folders in crawled data).
 */
public final class HiddenLabels {

  private HiddenLabels() {}

  /** Rows (uri, true_name), or empty when the run has no hidden labels. */
  public static Optional<Dataset<Row>> read(RunContext ctx) throws IOException {
    String configured = ctx.settings().data().hiddenLabels();
    Path file =
        configured.isEmpty()
            ? new Path(ctx.stageDir(ImportFashionMnistStage.NAME), ImportFashionMnistStage.HIDDEN_LABELS)
            : new Path(configured);
    if (!ctx.fs().exists(file)) {
      return Optional.empty();
    }
    TruthFile truth = TruthFile.load(ctx.fs().getConf(), file.toString(), ShardStage.unlabelledRoot(ctx));
    return Optional.of(truth.rows(ctx.spark()).select(col("uri"), col("true_name")));
  }

  /** The pseudo-labels with their true class name (null where the file has none). */
  public static Dataset<Row> join(Dataset<Row> pseudo, Dataset<Row> hidden) {
    return pseudo.join(hidden, "uri", "left");
  }
}
