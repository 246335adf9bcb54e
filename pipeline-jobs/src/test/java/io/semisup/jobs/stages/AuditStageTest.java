package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit stage on a small real run: by default the val split, never trained on, split in two
 * by the hash of the image id; then the teacher audited with its own 200 training images as the
 * suspect set against 400 unseen val images (a teacher trained 30 epochs on 200 images without
 * augmentation remembers them: the test must find it), with its own head and with a linear head on its pooled features;
 * and switched off.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditStageTest extends SparkTestBase {

  @TempDir static Path root;

  static final String RUN = "audit";

  private static final String[] RUN_SETTINGS = {
    "data.labelled-per-class=20",
    "data.unlabelled-limit=200", "data.validation-size=100",
    "data.val-limit=400",
    // 30 epochs without augmentation: the teacher memorises its 200 images (what the audit must see).
    "teacher.epochs=30",
    "teacher.batch-size=16",
    "teacher.augment-flip=false",
    "teacher.augment-shift=0",
    "teacher.augment-erase=0",
    "teacher.randaugment-ops=0",
    "student.epochs=1",
    "student.batch-size=32",
    "finetune.epochs=0",
    "select.k=20",
    "select.p=1",
    "score.top-p=1",
  };

  private RunContext ctx(String... more) {
    List<String> all = new ArrayList<>(List.of(RUN_SETTINGS));
    all.addAll(List.of(more));
    return context(root, RUN, all.toArray(new String[0]));
  }

  private static JsonNode metrics(RunContext ctx) throws Exception {
    return RunContext.json().readTree(ctx.readBytes(
        new org.apache.hadoop.fs.Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
  }

  @Test
  @Order(1)
  void defaultAuditSplitsTheValSetAndWritesItsVerdictIntoMetrics() throws Exception {
    Prerequisites.fashionMnist();
    RunContext ctx = ctx();
    for (Stage s : StageGraph.standard().all()) {
      s.execute(ctx);
    }
    JsonNode audit = metrics(ctx).get(AuditStage.METRICS_KEY);
    assertThat(audit.get("reference").asText()).isEqualTo("hash-split");
    assertThat(audit.get("model").asText()).isEqualTo("finetune");
    long suspect = audit.get("suspect_images").asLong();
    long reference = audit.get("reference_images").asLong();
    assertThat(suspect + reference).isEqualTo(metrics(ctx).get("val_images").asLong());
    assertThat(suspect / (double) (suspect + reference)).isBetween(0.4, 0.6);
    // Both halves are unseen images: no evidence of membership (a false alarm at p < 0.001
    // would happen once in a thousand seeds).
    assertThat(audit.get("p_value").asDouble()).isGreaterThan(0.001);
    assertThat(AuditStage.summary(ctx)).isEqualTo(audit);
    assertThat(Tables.AUDIT_SCORES.read(ctx).count()).isEqualTo(suspect + reference);
    // The same split again: deterministic by the seeded hash.
    List<String> suspects = Tables.AUDIT_SCORES.read(ctx).filter("set = 'suspect'").select("image_id")
        .orderBy("image_id").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    io.semisup.core.audit.HashSplit split = new io.semisup.core.audit.HashSplit(ctx.settings().run().seed());
    assertThat(suspects).allMatch(split::isSuspect);
    String html = new String(ctx.readBytes(new org.apache.hadoop.fs.Path(ctx.stageDir(ReportStage.NAME), ReportStage.HTML)),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(html).contains("Membership audit").contains(audit.get("verdict").asText());
  }

  @Test
  @Order(2)
  void theTeachersTrainingImagesAreFoundAgainstUnseenImages() throws Exception {
    String imported = root.resolve(RUN).resolve(ImportFashionMnistStage.NAME).toString();
    for (String method : List.of("loss", "linear-head")) {
      RunContext ctx = ctx("audit.model=teacher", "audit.method=" + method, "force=true",
          "audit.suspect-dir=\"" + imported + "/train\"", "audit.reference-dir=\"" + imported + "/val\"");
      new AuditStage().execute(ctx);
      JsonNode audit = metrics(ctx).get(AuditStage.METRICS_KEY);
      assertThat(audit.get("reference").asText()).isEqualTo("reference-dir");
      assertThat(audit.get("method").asText()).isEqualTo(method);
      assertThat(audit.get("suspect_images").asLong()).isEqualTo(200);
      assertThat(audit.get("suspect_mean_loss").asDouble()).as(method)
          .isLessThan(audit.get("reference_mean_loss").asDouble());
      assertThat(audit.get("p_value").asDouble()).as(method).isLessThan(0.01);
      assertThat(audit.get("verdict").asText()).isEqualTo("member");
      if (method.equals("linear-head")) {
        long headTrain = Tables.AUDIT_SCORES.read(ctx).filter("set = 'head-train'").count();
        assertThat(headTrain + audit.get("reference_images").asLong()).isEqualTo(400);
        assertThat(headTrain).isBetween(150L, 250L);
      } else {
        assertThat(audit.get("reference_images").asLong()).isEqualTo(400);
      }
    }
  }

  @Test
  @Order(3)
  void switchedOffTheStageCommitsANoteAndTheReportSaysSo() throws Exception {
    RunContext ctx = ctx("audit.enabled=false", "force=true");
    new AuditStage().execute(ctx);
    assertThat(AuditStage.summary(ctx).get("enabled").asBoolean()).isFalse();
    assertThat(Tables.AUDIT_SCORES.read(ctx).count()).isZero();
  }
}
