package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.core.UsageError;
import io.semisup.core.audit.HashSplit;
import io.semisup.core.audit.LinearHead;
import io.semisup.core.audit.MembershipAudit;
import io.semisup.core.audit.MembershipScores;
import io.semisup.core.audit.PooledFeatures;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.ModelBundle;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.AuditSettings;
import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Déjà Vu (Sablayrolles et al., arXiv:1809.06396): was a suspect set (default: the run's val
 * split, what the run reports its accuracy on) in the training set of the audited model? Each
 * image's membership score is the model's loss on its true label; a one-sided two-sample test
 * (Mann-Whitney or Kolmogorov-Smirnov, {@code audit.test}) asks whether the suspect losses are
 * smaller than those of a reference set of the same distribution that was certainly never
 * trained on. Without a separate reference folder the suspect set is split in two by a seeded
 * hash of the image id ({@link HashSplit}, seed = the run's {@code seed}): one half suspect, one
 * half reference. A contamination test then plants copies of the suspect half only.
 *
 * <p>Writes {@link #AUDIT_JSON} (verdict, p-value, statistics) and {@link Tables#AUDIT_SCORES},
 * and copies the summary into evaluate's {@code metrics.json} under {@code "audit"}: evaluate
 * runs first and knows nothing of the audit, so the audit rewrites that file whole, through a
 * temporary file renamed over it (atomic on HDFS and local disks). A rerun of evaluate rewrites
 * metrics.json without it, and makes this stage stale (its input changed), so the next run of
 * the chain writes it again.
 */
public final class AuditStage extends Stage {

  public static final String NAME = "audit";
  public static final String AUDIT_JSON = "audit.json";
  /** The key of the audit's summary in evaluate's metrics.json. */
  public static final String METRICS_KEY = "audit";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Deja Vu membership audit: tests whether the audited model trained on the suspect (val) images.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, TeacherStage.NAME, StudentStage.NAME, FinetuneStage.NAME, EvaluateStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES);
  }

  @Override
  public List<Table> outputs() {
    return List.of(Tables.AUDIT_SCORES);
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("audit", "seed", "score.backend", "score.cuda", "score.teacher-onnx", "score.teacher-metadata");
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    return OnnxTeacher.configured(ctx)
        ? dependsOn().stream().filter(s -> !s.equals(TeacherStage.NAME)).toList()
        : dependsOn();
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    AuditSettings a = ctx.settings().audit();
    ObjectNode summary = RunContext.json().createObjectNode();
    if (!a.enabled()) {
      summary.put("enabled", false);
      Tables.AUDIT_SCORES.write(ctx.spark().createDataFrame(List.of(), Tables.AUDIT_SCORES.schema()), out);
      ctx.writeString(new Path(out, AUDIT_JSON), RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(summary));
      report.detail("enabled", false);
      return;
    }
    Dataset<Row> suspect = a.suspectDir().isEmpty()
        ? AuditImages.valSplit(ctx)
        : AuditImages.folder(ctx, "audit.suspect-dir", a.suspectDir());
    Dataset<Row> reference = a.referenceDir().isEmpty()
        ? null
        : AuditImages.folder(ctx, "audit.reference-dir", a.referenceDir());
    Sets sets = new Sets(ctx.settings().run().seed(),
        reference == null ? null : new HashSet<>(reference.select("uri").as(org.apache.spark.sql.Encoders.STRING()).collectAsList()));
    Dataset<Row> images = reference == null ? suspect : suspect.unionByName(reference);

    List<Row> scored = a.method().equals("loss")
        ? lossScores(ctx, a, images, sets)
        : linearHeadScores(ctx, a, images, sets);
    double[] suspectLoss = losses(scored, "suspect");
    double[] referenceLoss = losses(scored, "reference");
    if (suspectLoss.length < 2 || referenceLoss.length < 2) {
      throw new UsageError("Cannot audit run " + ctx.runId() + ": " + suspectLoss.length + " suspect and "
          + referenceLoss.length + " reference images scored, at least 2 of each needed. Give audit.suspect-dir"
          + " and audit.reference-dir more labelled images (or the val split, data.val-dir).");
    }
    MembershipAudit audit = MembershipAudit.of(a.method(), suspectLoss, referenceLoss, a.testKind(), a.alpha());
    log.info("[audit] {} of {}: {}", a.model(), ctx.runId(), audit.summary());

    Tables.AUDIT_SCORES.write(ctx.spark().createDataFrame(scored, Tables.AUDIT_SCORES.schema()).coalesce(1), out);
    summary.put("enabled", true);
    summary.put("model", a.model());
    summary.put("reference", reference == null ? "hash-split" : "reference-dir");
    summary.put("split_seed", ctx.settings().run().seed());
    for (Map.Entry<String, Object> e : audit.toMap().entrySet()) {
      summary.putPOJO(e.getKey(), e.getValue());
    }
    String text = RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(summary);
    ctx.writeString(new Path(out, AUDIT_JSON), text);
    report.count("suspect_images", suspectLoss.length).count("reference_images", referenceLoss.length)
        .detail("verdict", audit.verdict()).detail("p_value", audit.pValue())
        .detail("statistic", audit.decisive().statistic());
    addToMetrics(ctx, RunContext.json().readTree(text));
  }

  /** Which set an audited image is in: by the reference folder's URIs, or by the hash split. */
  private record Sets(long seed, Set<String> referenceUris) {
    String of(String imageId, String uri) {
      if (referenceUris != null) {
        return referenceUris.contains(uri) ? "reference" : "suspect";
      }
      return new HashSplit(seed).isSuspect(imageId) ? "suspect" : "reference";
    }

    /** The reference half a linear head is fitted on: a second, independent hash split. */
    boolean headTrain(String imageId) {
      return new HashSplit(seed + 1).isSuspect(imageId);
    }
  }

  /** The audited model's own loss on each image's true label ({@link Tables#AUDIT_SCORES} rows). */
  private List<Row> lossScores(RunContext ctx, AuditSettings a, Dataset<Row> images, Sets sets) {
    ScoringModel model = a.model().equals(TeacherStage.NAME) && OnnxTeacher.configured(ctx)
        ? OnnxTeacher.load(ctx).model()
        : Scoring.model(ctx, a.model());
    List<Row> scored = Scoring.score(ctx, images, model, ctx.settings().score().batchSize(), model.numClasses())
        .filter("reason is null and label is not null")
        .select("image_id", "uri", "label", "classes", "probs").collectAsList();
    List<Row> rows = new ArrayList<>();
    for (Row r : scored) {
      List<Integer> cls = r.getList(3);
      List<Float> probs = r.getList(4);
      int[] c = cls.stream().mapToInt(Integer::intValue).toArray();
      float[] p = new float[probs.size()];
      for (int i = 0; i < p.length; i++) {
        p[i] = probs.get(i);
      }
      rows.add(RowFactory.create(r.getString(0), r.getString(1), sets.of(r.getString(0), r.getString(1)),
          r.getInt(2), MembershipScores.lossFromTopP(c, p, r.getInt(2))));
    }
    return rows;
  }

  /**
   * A softmax head fitted on the pooled features of half the reference set, its loss on the other
   * half and on the suspect set. Images are decoded and run through DL4J on the driver.
   */
  private List<Row> linearHeadScores(RunContext ctx, AuditSettings a, Dataset<Row> images, Sets sets) throws Exception {
    if (a.model().equals(TeacherStage.NAME) && OnnxTeacher.configured(ctx)) {
      throw new UsageError("Cannot audit an ONNX teacher with audit.method = linear-head: its pooled features are"
          + " not available. Use audit.method = loss, or audit.model = student or finetune.");
    }
    ModelBundle bundle = Models.load(ctx, a.model());
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    Preprocessor pre = new Preprocessor(bundle.metadata().input());
    List<Row> collected = images.filter("label is not null").collectAsList();
    List<String[]> ids = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    List<float[]> tensors = new ArrayList<>();
    for (Row r : collected) {
      try {
        tensors.add(pre.toChw(decoder.decode((byte[]) r.getAs("bytes")).image()));
      } catch (io.semisup.core.image.ImageRejectedException e) {
        log.warn("[audit] skipping {}: {}", r.getAs("uri"), e.getMessage());
        continue;
      }
      ids.add(new String[] {r.getAs("image_id"), r.getAs("uri")});
      labels.add(r.getAs("label"));
    }
    float[][] features = PooledFeatures.of(bundle.graph(), tensors.toArray(new float[0][]), bundle.metadata().input());
    List<float[]> trainX = new ArrayList<>();
    List<Integer> trainY = new ArrayList<>();
    String[] set = new String[ids.size()];
    for (int i = 0; i < ids.size(); i++) {
      set[i] = sets.of(ids.get(i)[0], ids.get(i)[1]);
      if (set[i].equals("reference") && sets.headTrain(ids.get(i)[0])) {
        set[i] = "head-train";
        trainX.add(features[i]);
        trainY.add(labels.get(i));
      }
    }
    if (trainX.size() < 2) {
      throw new UsageError("Cannot fit the audit's linear head on " + trainX.size() + " reference images."
          + " Give more labelled reference images (audit.reference-dir or the val split).");
    }
    LinearHead head = LinearHead.fit(trainX.toArray(new float[0][]), trainY.stream().mapToInt(Integer::intValue).toArray(),
        bundle.metadata().numClasses(), LinearHead.Options.defaults());
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      double loss = MembershipScores.loss(head.probabilities(features[i]), labels.get(i));
      rows.add(RowFactory.create(ids.get(i)[0], ids.get(i)[1], set[i], labels.get(i), loss));
    }
    return rows;
  }

  private static double[] losses(List<Row> rows, String set) {
    return rows.stream().filter(r -> r.getString(2).equals(set)).mapToDouble(r -> r.getDouble(4)).toArray();
  }

  /** Puts the summary into evaluate's metrics.json: a temporary file renamed over the old one. */
  private void addToMetrics(RunContext ctx, JsonNode audit) throws Exception {
    if (ctx.isShared(EvaluateStage.NAME)) {
      log.warn("[audit] evaluate is shared from run {}: its metrics.json is left as it is", ctx.baseRun());
      return;
    }
    Path dir = ctx.stageDir(EvaluateStage.NAME);
    Path file = ctx.fs().makeQualified(new Path(dir, EvaluateStage.METRICS_JSON));
    ObjectNode metrics = (ObjectNode) RunContext.json().readTree(ctx.readBytes(file));
    metrics.set(METRICS_KEY, audit);
    Path tmp = ctx.fs().makeQualified(new Path(dir, "." + EvaluateStage.METRICS_JSON + "." + UUID.randomUUID()));
    ctx.writeString(tmp, RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(metrics));
    FileContext.getFileContext(file.toUri(), ctx.spark().sparkContext().hadoopConfiguration())
        .rename(tmp, file, Options.Rename.OVERWRITE);
  }

  /** The audit summary of a committed audit stage, or null when the stage has not run. */
  public static JsonNode summary(RunContext ctx) {
    Path file = new Path(ctx.stageDir(NAME), AUDIT_JSON);
    try {
      if (!ctx.isCommitted(NAME) || !ctx.fs().exists(file)) {
        return null;
      }
      return RunContext.json().readTree(ctx.readBytes(file));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
