package io.semisup.jobs.inspect;

import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.ReportStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import io.semisup.jobs.tables.Tables;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * A committed run made of synthetic tables, as the select, score, shard and evaluate stages would
 * have written them, with any number of classes and no training: what the report, the export and
 * the notebook read. Class c owns {@code perClass} unlabelled images (small seeded noise PNGs)
 * scored c first and c+1 second; the best {@code selected} of each are its pseudo-labels, so each
 * class has candidates on both sides of its threshold. Every fourth image's true label is the next
 * class (hidden labels), so some pseudo-labels are wrong and the confusion matrix is not diagonal.
 * One class name needs HTML escaping.
 */
public final class SyntheticRun {

  /** The class name that would break a page built by string concatenation. */
  public static final String HOSTILE_NAME = "<b>bold</b> & \"quoted\"";

  private final int classes;
  private final int perClass;
  private final int selected;

  public SyntheticRun(int classes, int perClass, int selected) {
    this.classes = classes;
    this.perClass = perClass;
    this.selected = selected;
  }

  public static String className(int c) {
    return c == 7 ? HOSTILE_NAME : String.format(Locale.ROOT, "class_%04d", c);
  }

  /** The truth file (TSV: full URI, class folder name) to pass as {@code data.hidden-labels}. */
  public static Path hiddenLabels(Path root) {
    return root.resolve("hidden_labels.tsv");
  }

  /** Writes the tables, the hidden labels, metrics.json and a committed manifest for every stage before report. */
  public void write(RunContext ctx, Path root) throws IOException {
    SparkSession spark = ctx.spark();
    Random random = new Random(42);
    List<Row> images = new ArrayList<>();
    List<Row> scores = new ArrayList<>();
    List<Row> pseudo = new ArrayList<>();
    List<Row> counts = new ArrayList<>();
    List<Row> precision = new ArrayList<>();
    StringBuilder hidden = new StringBuilder("path\tclass\n");
    for (int c = 0; c < classes; c++) {
      int next = (c + 1) % classes;
      long correct = 0;
      for (int i = 0; i < perClass; i++) {
        String id = String.format(Locale.ROOT, "%064x", (long) c * perClass + i);
        String file = "img_" + c + "_" + i + ".png";
        String uri = "file:/pool/" + file;
        float score = 0.95f - 0.05f * i;
        images.add(RowFactory.create(id, uri, noisePng(random), 16, 16, "png", null, null, Tables.UNLABELLED));
        scores.add(RowFactory.create(id, uri, new int[] {c, next}, new float[] {score, (1 - score) / 2}, "synthetic-teacher"));
        int truth = i % 4 == 3 ? next : c;
        hidden.append(uri).append('\t').append(className(truth)).append('\n');
        if (i < selected) {
          pseudo.add(RowFactory.create(c, className(c), i + 1, id, score, uri));
          correct += truth == c ? 1 : 0;
        }
      }
      float threshold = 0.95f - 0.05f * (selected - 1);
      counts.add(RowFactory.create(c, className(c), (long) 2 * perClass, (long) selected, threshold, false));
      precision.add(RowFactory.create(c, className(c), (long) selected, correct, (double) correct / selected));
    }
    Tables.IMAGES.write(spark.createDataFrame(images, Tables.IMAGES.schema()), ctx.stageDir("shard"));
    Tables.SCORES.write(spark.createDataFrame(scores, Tables.SCORES.schema()).repartition(4), ctx.stageDir("score"));
    Tables.PSEUDO_LABELS.write(spark.createDataFrame(pseudo, Tables.PSEUDO_LABELS.schema()), ctx.stageDir(SelectStage.NAME));
    Tables.CLASS_COUNTS.write(spark.createDataFrame(counts, Tables.CLASS_COUNTS.schema()).coalesce(1), ctx.stageDir(SelectStage.NAME));
    Tables.PRECISION.write(spark.createDataFrame(precision, Tables.PRECISION.schema()).coalesce(1), ctx.stageDir(EvaluateStage.NAME));
    Files.writeString(hiddenLabels(root), hidden.toString());
    long total = (long) classes * selected;
    ctx.writeString(new org.apache.hadoop.fs.Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON),
        "{\"teacher\": {\"top1\": 0.8, \"top5\": 0.95, \"validation_top1\": 0.81}, \"student\": {\"top1\": 0.82, \"top5\": 0.96},"
            + " \"pseudo_label_precision\": 0.8, \"val_images\": 100, \"validation_images\": 50}");
    for (Stage s : StageGraph.standard().all()) {
      if (s.name().equals(ReportStage.NAME)) {
        continue;
      }
      String manifest = s.name().equals(SelectStage.NAME)
          ? "{\"stage\": \"select\", \"commit_id\": \"synthetic\", \"details\": {\"k\": " + selected + ", \"p\": 2, \"mode\": \"balanced\"},"
              + " \"counts\": {\"scored_images\": " + (long) classes * perClass + ", \"selected\": " + total
              + ", \"distinct_images\": " + total + "}}"
          : "{\"stage\": \"" + s.name() + "\", \"commit_id\": \"synthetic\", \"counts\": {}, \"details\": {}}";
      ctx.writeString(new org.apache.hadoop.fs.Path(ctx.stageDir(s.name()), Stage.MANIFEST), manifest);
      ctx.fs().create(new org.apache.hadoop.fs.Path(ctx.stageDir(s.name()), Stage.SUCCESS), true).close();
    }
  }

  /** A 16 x 16 PNG of seeded grey noise: many distinct grey levels once enlarged. */
  static byte[] noisePng(Random random) throws IOException {
    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        int v = random.nextInt(256);
        img.getRaster().setSample(x, y, 0, v);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
