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
 * the held-out split, and the precision of the pseudo-labels against hidden true labels (when a
 * hidden-labels file exists, as for the Fashion-MNIST import).
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
    return List.of(SelectStage.NAME, TeacherStage.NAME, StudentStage.NAME, FinetuneStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES, Tables.PSEUDO_LABELS);
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
    List<String> required = OnnxTeacher.configured(ctx)
        ? dependsOn().stream().filter(s -> !s.equals(TeacherStage.NAME)).toList()
        : dependsOn();
    if (!ctx.settings().fixres().enabled()) {
      return required;
    }
    List<String> withFixres = new java.util.ArrayList<>(required);
    withFixres.add(FixresStage.NAME);
    return withFixres;
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
    Dataset<Row> val = Images.split(ctx, Tables.VAL).persist(StorageLevel.MEMORY_AND_DISK());
    long valCount = val.count();
    if (valCount == 0) {
      throw new IllegalStateException(
          "Cannot evaluate run " + ctx.runId() + ": the val split is empty. Set data.val-dir to labelled held-out images.");
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
      log.info("[evaluate] {}: top-1 {} top-5 {} on {} images", m.getKey(), acc[0], acc[1], valCount);
    }
    val.unpersist();
    report.count("val_images", valCount);

    Double precision = precision(ctx, out, report);
    if (precision != null) {
      metrics.put("pseudo_label_precision", precision);
    } else {
      metrics.putNull("pseudo_label_precision");
    }
    metrics.put("val_images", valCount);
    ctx.writeString(new Path(out, METRICS_JSON), RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(metrics));
  }

  /** Overall precision of the pseudo-labels, and the per-class table; null without hidden labels. */
  private Double precision(RunContext ctx, Path out, StageReport report) throws Exception {
    String configured = ctx.settings().data().hiddenLabels();
    Path file =
        configured.isEmpty()
            ? new Path(ctx.stageDir(ImportFashionMnistStage.NAME), ImportFashionMnistStage.HIDDEN_LABELS)
            : new Path(configured);
    if (!ctx.fs().exists(file)) {
      log.warn("[evaluate] no hidden labels at {}: pseudo-label precision not measured", file);
      return null;
    }
    Dataset<Row> hidden =
        ctx.spark().read().option("header", "true").csv(file.toString())
            .select(col("file"), col("label_name").as("true_name"));
    Dataset<Row> pseudo =
        Tables.PSEUDO_LABELS.read(ctx)
            .withColumn("file", functions.element_at(functions.split(col("uri"), "/"), -1));
    Dataset<Row> joined = pseudo.join(hidden, "file");
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
