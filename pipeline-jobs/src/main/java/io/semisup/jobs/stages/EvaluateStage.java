package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * The numbers the method is judged by: top-1/top-5 of teacher, student and fine-tuned student on
 * the test split ({@code top1}/{@code top5} in metrics.json) and on the validation split
 * ({@code validation_top1}/{@code validation_top5}, when the run has one: settings are chosen on
 * these, results reported on the test figures), and the precision of the pseudo-labels against
 * hidden true labels (when a hidden-labels file exists, as for the Fashion-MNIST import).
 */
public final class EvaluateStage extends Stage {

  public static final String NAME = "evaluate";
  public static final String METRICS_JSON = "metrics.json";

  /** Model stages evaluated, with their key in metrics.json. */
  static final Map<String, String> MODELS = new LinkedHashMap<>();

  static {
    MODELS.put("teacher", TeacherStage.NAME);
    MODELS.put("student", StudentStage.NAME);
    MODELS.put("finetuned", FinetuneStage.NAME);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Top-1/top-5 of teacher, student, fine-tuned student; pseudo-label precision.";
  }

  @Override
  public List<String> dependsOn() {
    // fixres is read only when fixres.enabled (requires), but always ordered before: the DAG and
    // downstream() see that evaluate reads it.
    return List.of(SelectStage.NAME, TeacherStage.NAME, StudentStage.NAME, FinetuneStage.NAME, FixresStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES, Tables.SHARD_REJECTS, Tables.DUPLICATES, Tables.PSEUDO_LABELS);
  }

  /** {@link Tables#PRECISION} only where hidden labels exist; also writes {@link #METRICS_JSON}. */
  @Override
  public List<Table> outputs() {
    return List.of(Tables.PRECISION);
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("data.hidden-labels", "score.backend", "score.cuda", "score.teacher-onnx",
        "score.teacher-metadata");
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    boolean onnxTeacher = OnnxTeacher.configured(ctx);
    boolean fixres = ctx.settings().fixres().enabled();
    return dependsOn().stream()
        .filter(s -> !(onnxTeacher && s.equals(TeacherStage.NAME)))
        .filter(s -> fixres || !s.equals(FixresStage.NAME))
        .toList();
  }

  /** The models reported: {@link #MODELS}, and the FixRes model as "fixres" when that stage is on. */
  static Map<String, String> models(RunContext ctx) {
    Map<String, String> models = new LinkedHashMap<>(MODELS);
    if (ctx.settings().fixres().enabled()) {
      models.put("fixres", FixresStage.NAME);
    }
    return models;
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    ObjectNode metrics = RunContext.json().createObjectNode();
    TruthFile truth = truth(ctx); // checked before any model is scored
    Dataset<Row> val = Images.split(ctx, Tables.VAL).persist(StorageLevel.MEMORY_AND_DISK());
    long valCount = val.count();
    if (valCount == 0) {
      throw new IllegalStateException(
          "Cannot evaluate run " + ctx.runId() + ": the val split is empty. Set data.val-dir to labelled held-out images.");
    }
    Dataset<Row> validation = Images.split(ctx, Tables.VALIDATION).persist(StorageLevel.MEMORY_AND_DISK());
    long validationCount = validation.count();
    if (validationCount == 0) {
      log.warn("[evaluate] run {} has no validation split: only test figures (choose settings on a"
          + " validation split: data.validation-dir or data.validation-fraction)", ctx.runId());
    }
    int batch = ctx.settings().score().batchSize();
    for (Map.Entry<String, String> m : models(ctx).entrySet()) {
      // A teacher brought as ONNX (score.teacher-onnx) is evaluated as scored: no teacher stage.
      ScoringModel model = m.getValue().equals(TeacherStage.NAME) && OnnxTeacher.configured(ctx)
          ? OnnxTeacher.load(ctx).model()
          : Scoring.model(ctx, m.getValue());
      double[] acc = Accuracy.of(Scoring.score(ctx, val, model, batch, 5));
      ObjectNode n = metrics.putObject(m.getKey());
      n.put("top1", acc[0]);
      n.put("top5", acc[1]);
      n.put("model_id", model.modelId());
      n.put("input_size", model.spec().height() + "x" + model.spec().width());
      report.detail(m.getKey() + "_top1", acc[0]).detail(m.getKey() + "_top5", acc[1]);
      log.info("[evaluate] {}: test top-1 {} top-5 {} on {} images", m.getKey(), acc[0], acc[1], valCount);
      if (validationCount > 0) {
        double[] v = Accuracy.of(Scoring.score(ctx, validation, model, batch, 5));
        n.put("validation_top1", v[0]);
        n.put("validation_top5", v[1]);
        report.detail(m.getKey() + "_validation_top1", v[0]);
        log.info("[evaluate] {}: validation top-1 {} top-5 {} on {} images", m.getKey(), v[0], v[1], validationCount);
      }
    }
    val.unpersist();
    validation.unpersist();
    report.count("val_images", valCount).count("validation_images", validationCount);

    Double precision = precision(ctx, truth, out, report);
    if (precision != null) {
      metrics.put("pseudo_label_precision", precision);
    } else {
      metrics.putNull("pseudo_label_precision");
    }
    metrics.put("val_images", valCount);
    metrics.put("validation_images", validationCount);
    ctx.writeString(new Path(out, METRICS_JSON), RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(metrics));
  }

  /**
   * The truth file (data.hidden-labels, else the import's file when there is one), checked against
   * the run's classes and unlabelled files; null when there is none.
   */
  private TruthFile truth(RunContext ctx) {
    String configured = ctx.settings().data().hiddenLabels();
    String file = configured.isEmpty()
        ? ctx.stagePath(ImportFashionMnistStage.NAME, ImportFashionMnistStage.HIDDEN_LABELS)
        : configured;
    try {
      if (configured.isEmpty() && !ctx.fs().exists(new Path(file))) {
        log.warn("[evaluate] no hidden labels at {}: pseudo-label precision not measured", file);
        return null;
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot look for " + file + ": " + e.getMessage(), e);
    }
    TruthFile truth = TruthFile.load(ctx.fs().getConf(), file, ShardStage.unlabelledRoot(ctx));
    truth.checkClasses(Classes.of(ctx));
    // Every listed unlabelled file is in exactly one of shard's images, rejects or duplicates.
    Dataset<Row> known = Images.split(ctx, Tables.UNLABELLED).select("uri")
        .unionByName(Tables.SHARD_REJECTS.read(ctx).filter(col("split").equalTo(Tables.UNLABELLED)).select("uri"))
        .unionByName(Tables.DUPLICATES.read(ctx).filter(col("split").equalTo(Tables.UNLABELLED)).select("uri"));
    List<Row> missing = truthRows(ctx, truth).join(known, "uri", "left_anti")
        .orderBy("line").limit(1).collectAsList();
    if (!missing.isEmpty()) {
      throw truth.unknownPath(missing.get(0).getAs("uri"));
    }
    return truth;
  }

  private static Dataset<Row> truthRows(RunContext ctx, TruthFile truth) {
    return truth.rows(ctx.spark());
  }


  /**
   * Overall precision of the pseudo-labels with a true label, and the per-class table; null
   * without a truth file. Joined on the image's full URI, never its base name.
   */
  private Double precision(RunContext ctx, TruthFile truth, Path out, StageReport report) throws Exception {
    if (truth == null) {
      return null;
    }
    Dataset<Row> hidden = truthRows(ctx, truth).select("uri", "true_name");
    Dataset<Row> pseudo = Tables.PSEUDO_LABELS.read(ctx);
    Dataset<Row> joined = pseudo.join(hidden, "uri");
    Dataset<Row> perClass =
        joined.groupBy("class", "class_name")
            .agg(
                functions.count("*").as("selected"),
                functions.sum(functions.when(col("class_name").equalTo(col("true_name")), 1L).otherwise(0L)).as("correct"))
            .withColumn("precision", col("correct").cast("double").divide(col("selected")))
            .orderBy("class");
    Tables.PRECISION.write(perClass.coalesce(1), out);
    Row total = perClass.agg(functions.sum("selected"), functions.sum("correct")).first();
    long selected = total.isNullAt(0) ? 0 : total.getLong(0);
    long correct = total.isNullAt(1) ? 0 : total.getLong(1);
    long pseudoCount = pseudo.count();
    report.count("pseudo_labels", pseudoCount).count("pseudo_labels_with_hidden_label", selected).count("pseudo_labels_correct", correct);
    return selected == 0 ? null : (double) correct / selected;
  }
}
