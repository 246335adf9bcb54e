package io.semisup.jobs.spark;

import io.semisup.core.image.InputSpec;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.multigrain.MultigrainObjective;
import io.semisup.core.multigrain.MultigrainTrainer;
import io.semisup.core.train.TrainingConfig;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training in the driver's JVM, for objectives dl4j-spark cannot run: the MultiGrain margin loss
 * couples the rows of a batch and carries a parameter (beta) outside the network, which
 * parameter averaging of replicas does not know. The labelled set is small (the teacher already
 * trains with one replica), so its rows are decoded on the executors, as {@link SparkTrainer}
 * does, and collected.
 */
public final class DriverTraining {

  private static final Logger LOG = LoggerFactory.getLogger(DriverTraining.class);

  private DriverTraining() {}

  /**
   * Trains {@code graph} on rows (image_id, bytes, label) with {@code objective}, decoding at
   * {@code decodeSpec} when {@code crop} is set (the crop then makes the training size), else at
   * {@code spec}; returns {@code graph}, trained.
   */
  public static ComputationGraph fitMultigrain(ComputationGraph graph, Dataset<Row> rows, TrainingConfig cfg,
      InputSpec spec, RandomResizedCrop crop, InputSpec decodeSpec, MultigrainObjective objective, String what) {
    if (cfg.epochs() == 0) {
      return graph;
    }
    InputSpec decodeAt = crop == null ? spec : decodeSpec;
    List<SparkTrainer.Example> examples =
        rows.javaRDD().map(r -> SparkTrainer.Example.decode(r, decodeAt)).collect();
    float[][] x = new float[examples.size()][];
    int[] y = new int[examples.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = examples.get(i).x();
      y[i] = examples.get(i).y();
    }
    LOG.info("[{}] MultiGrain objective {} on {} images in the driver", what, objective, x.length);
    var stats = MultigrainTrainer.fit(graph, x, y, cfg, decodeAt, crop, objective, e -> { });
    for (var s : stats) {
      LOG.info("[{}] epoch {}: loss {}, margin loss {}, beta {}, {} img/s", what, s.epoch(),
          String.format("%.4f", s.meanLoss()), String.format("%.4f", s.meanMarginLoss()),
          String.format("%.4f", s.beta()), Math.round(s.imagesPerSecond()));
    }
    return graph;
  }
}
