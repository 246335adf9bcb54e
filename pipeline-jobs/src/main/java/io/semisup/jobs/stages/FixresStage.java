package io.semisup.jobs.stages;

import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.train.FixResRefit;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.FixresSettings;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

/**
 * FixRes (Touvron et al. 2019, arXiv:1906.06423): fixes a model of the run ({@code fixres.model},
 * e.g. a student trained at a low {@code student.input-size}) for the test resolution {@code
 * fixres.test-size}. Every parameter stays frozen except the classifier; the batch-norm layers
 * feeding the global pooling re-estimate their statistics; the labelled training images go
 * through the test transform ({@code model.test-resize-ratio}: resize, centre crop; the one
 * {@code score} and {@code evaluate} use, saved with the model) at the test resolution. See {@link FixResRefit}.
 *
 * <p>Why a stage of its own after {@code finetune}: it is cheap (one forward pass over the
 * labelled images and a softmax regression) and its model is a model like the others, carrying
 * the test resolution in its metadata, so {@code evaluate} and {@code score} use it as is. Off
 * unless {@code fixres.enabled}: a disabled fixres is skipped by every command.
 */
public final class FixresStage extends Stage {

  public static final String NAME = "fixres";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "FixRes: fix a model (fixres.model) at the test resolution (fixres.test-size); on with fixres.enabled.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, FinetuneStage.NAME);
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    return List.of(ShardStage.NAME, ctx.settings().fixres().model());
  }

  @Override
  public boolean enabled(RunContext ctx) {
    return ctx.settings().fixres().enabled();
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES);
  }

  /** Writes its model ({@code model.zip}), not tables. */
  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected List<String> configKeys() {
    return List.of("fixres", "model", "seed");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    FixresSettings f = ctx.settings().fixres();
    ModelBundle input = Models.load(ctx, f.model());
    List<String> classes = Classes.of(ctx);
    if (!input.metadata().classNames().equals(classes)) {
      throw new IllegalStateException("Cannot fix the " + f.model() + " model: its classes "
          + input.metadata().classNames() + " differ from the run's " + classes + ". Rerun it with --force.");
    }
    InputSpec trained = input.metadata().input();
    // The test transform at the test resolution: resize by model.test-resize-ratio, centre crop.
    InputSpec test = (f.testSize() > 0 ? trained.withSize(f.testSize(), f.testSize())
        : trained.withSize(ctx.settings().model().inputHeight(), ctx.settings().model().inputWidth()))
        .withResizeRatio(ctx.settings().model().testResizeRatio());
    List<Row> rows = Images.split(ctx, Tables.TRAIN).select("image_id", "bytes", "label")
        .orderBy("image_id").collectAsList();
    float[][] x = new float[rows.size()][];
    int[] y = new int[rows.size()];
    Preprocessor prep = new Preprocessor(test);
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    for (int i = 0; i < x.length; i++) {
      Row r = rows.get(i);
      try {
        x[i] = prep.toChw(decoder.decode((byte[]) r.get(1)).image());
      } catch (ImageRejectedException e) {
        throw new IllegalStateException("Cannot decode labelled image " + r.getString(0)
            + " that shard accepted: " + e.getMessage(), e);
      }
      y[i] = r.getInt(2);
    }
    long seed = ctx.settings().run().seed();
    FixResRefit refit = new FixResRefit(input.graph());
    List<FixResRefit.Report> done = new ArrayList<>();
    long t0 = System.nanoTime();
    var fixed = refit.fix(x, y, new long[] {test.channels(), test.height(), test.width()},
        new FixResRefit.Recipe(f.epochs(), f.batchSize(), f.learningRate(), f.momentum(), f.weightDecay(), seed),
        done);
    double secs = (System.nanoTime() - t0) / 1e9;
    Map<String, String> extra = new LinkedHashMap<>(input.metadata().extra());
    extra.put("stage", NAME);
    extra.put("run_id", ctx.runId());
    extra.put("fixed_from", input.metadata().modelId());
    extra.put("train_resolution", trained.height() + "x" + trained.width());
    extra.put("test_resolution", test.height() + "x" + test.width());
    extra.put("test_resize_ratio", Double.toString(test.resizeRatio()));
    extra.put("batch_norm_reestimated", String.join(",", refit.batchNormLayers()));
    String modelId = NAME + "-" + ctx.runId() + "-" + ctx.config().hash("fixres").substring(0, 8);
    Models.save(ctx, out, new ModelBundle(fixed,
        new ModelMetadata(modelId, input.metadata().architecture(), classes, test, seed, extra)));
    double[] loss = done.get(0).epochLoss();
    log.info("[fixres] {} ({}x{}) fixed at {}x{}: BN {} re-estimated on {} images, classifier loss {}",
        f.model(), trained.height(), trained.width(), test.height(), test.width(), refit.batchNormLayers(),
        x.length, java.util.Arrays.toString(loss));
    report.count("training_images", x.length)
        .detail("model_id", modelId)
        .detail("fixed_model", f.model())
        .detail("train_resolution", trained.height() + "x" + trained.width())
        .detail("test_resolution", test.height() + "x" + test.width())
        .detail("classifier_final_loss", loss.length == 0 ? Double.NaN : loss[loss.length - 1])
        .detail("fix_seconds", Math.round(secs * 10) / 10.0);
  }
}
