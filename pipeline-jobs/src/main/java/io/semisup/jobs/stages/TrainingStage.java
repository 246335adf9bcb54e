package io.semisup.jobs.stages;

import io.semisup.core.image.InputSpec;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkTrainer;
import io.semisup.jobs.spark.TrainingConfigs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * What teacher, student and fine-tuning share: read a training section of the config, train with
 * dl4j-spark, save the model with its metadata. Subclasses say where the examples and the initial
 * model come from.
 */
abstract class TrainingStage extends Stage {

  /** The config section with this stage's training settings. */
  protected abstract String section();

  /** Rows (image_id, bytes, label) to train on. */
  protected abstract Dataset<Row> examples(RunContext ctx);

  /** The model to start from. */
  protected abstract ComputationGraph initialModel(RunContext ctx, TrainingConfig cfg, InputSpec spec, List<String> classes);

  protected abstract String architecture(RunContext ctx);

  /** Trains {@code initial} on {@code rows}; dl4j-spark unless a stage's objective needs otherwise. */
  protected ComputationGraph train(RunContext ctx, SparkTrainer trainer, ComputationGraph initial, Dataset<Row> rows,
      TrainingConfig cfg, InputSpec spec, RandomResizedCrop crop, InputSpec dataSpec, int numClasses) {
    return trainer.fit(initial, rows, cfg, spec, crop, dataSpec, numClasses, name());
  }

  @Override
  protected boolean reportsOwnProgress() {
    return true;
  }

  @Override
  protected List<String> configKeys() {
    return List.of(section(), "model", "seed", "kernels");
  }

  @Override
  protected final void run(RunContext ctx, Path out, StageReport report) throws Exception {
    SemisupConfig c = ctx.config();
    TrainingConfig cfg = TrainingConfigs.from(c.settings().train(section()), c.settings().run().seed());
    InputSpec dataSpec = TrainingInput.of(ctx);
    int size = c.settings().train(section()).inputSize();
    // Training frames its images at ratio 1 (plain resize or RandomResizedCrop); the saved model
    // carries the run's test transform (model.test-resize-ratio).
    InputSpec spec = (size > 0 ? dataSpec.withSize(size, size) : dataSpec).withResizeRatio(1);
    RandomResizedCrop crop = c.settings().train(section()).cropMinArea() > 0
        ? new RandomResizedCrop(c.settings().train(section()).cropMinArea(), spec.height(), spec.width())
        : null;
    List<String> classes = Classes.of(ctx);
    SparkTrainer trainer =
        new SparkTrainer(
            JavaSparkContext.fromSparkContext(ctx.spark().sparkContext()),
            c.settings().train(section()).workers(),
            c.settings().train(section()).averagingFrequency());
    Dataset<Row> rows = examples(ctx);
    ComputationGraph initial = initialModel(ctx, cfg, spec, classes);
    if (cfg.epochs() == 0) {
      log.info("[{}] {}.epochs = 0: the starting model is saved as is, without training", name(), section());
    }
    long t0 = System.nanoTime();
    ComputationGraph trained = train(ctx, trainer, initial, rows, cfg, spec, crop, dataSpec, classes.size());
    double secs = (System.nanoTime() - t0) / 1e9;
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("stage", name());
    extra.put("run_id", ctx.runId());
    extra.put("training", cfg.toString());
    extra.put("workers", Integer.toString(trainer.workers()));
    extra.put("train_resolution", spec.height() + "x" + spec.width());
    if (crop != null) {
      extra.put("augment", crop.toString());
    }
    String modelId = name() + "-" + ctx.runId() + "-" + c.hash(section()).substring(0, 8);
    ModelBundle bundle =
        new ModelBundle(trained, new ModelMetadata(modelId, architecture(ctx), classes,
            spec.withResizeRatio(c.settings().model().testResizeRatio()), cfg.seed(), extra));
    Models.save(ctx, out, bundle);
    long n = rows.count();
    report.count("training_images", n)
        .detail("model_id", modelId)
        .detail("dl4j_patches", io.semisup.core.dl4j.Dl4jPatches.status().summary())
        .detail("epochs", cfg.epochs())
        .detail("input_size", spec.height() + "x" + spec.width())
        .detail("train_seconds", Math.round(secs * 10) / 10.0)
        .detail("images_per_second", Math.round(n * (double) cfg.epochs() / secs));
  }
}
