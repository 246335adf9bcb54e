package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * One HTML page per run ({@code report/report.html}) for a person to judge the pseudo-labels:
 * contact sheets of each class's top-ranked selected images with rank and score, score
 * histograms, counts per class, classes short of K, per-class precision where true labels were
 * known, and the accuracy table. Counts and metrics alone hide the failure that matters most (a
 * class whose top images are all the wrong thing); a page of thumbnails shows it in seconds.
 *
 * <p>The page is self-contained (thumbnails as data: URIs, SVG inline, no scripts or external
 * files) so it can be mailed, attached to a ticket or opened from HDFS without a server.
 * Thumbnails are made by executors; only classes x images-per-class small PNGs reach the driver.
 */
public final class ReportStage extends Stage {

  public static final String NAME = "report";
  public static final String HTML = "report.html";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "One self-contained HTML page: top pseudo-labelled images per class, histograms, counts, precision, accuracy.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(SelectStage.NAME, EvaluateStage.NAME, AuditStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.PSEUDO_LABELS, Tables.CLASS_COUNTS, Tables.PRECISION, Tables.SCORES, Tables.IMAGES);
  }

  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected List<String> configKeys() {
    return List.of("report");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    int perClass = ctx.settings().report().imagesPerClass();
    int size = ctx.settings().report().thumbnailSize();
    int bins = ctx.settings().report().histogramBins();
    if (perClass < 0 || size < 8 || bins < 2) {
      throw new IllegalArgumentException(
          "Cannot build the report with report.images-per-class=" + perClass + ", report.thumbnail-size=" + size
              + ", report.histogram-bins=" + bins + ": need images-per-class >= 0, thumbnail-size >= 8, histogram-bins >= 2.");
    }
    Dataset<Row> pseudo = Tables.PSEUDO_LABELS.read(ctx);
    List<Row> counts = Tables.CLASS_COUNTS.read(ctx).orderBy("class").collectAsList();
    Map<Integer, Row> precision = new TreeMap<>();
    if (Tables.PRECISION.exists(ctx)) {
      for (Row r : Tables.PRECISION.read(ctx).collectAsList()) {
        precision.put(r.getInt(r.fieldIndex("class")), r);
      }
    }
    JsonNode metrics = RunContext.json().readTree(ctx.readBytes(new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
    JsonNode selectManifest = ctx.manifest(SelectStage.NAME);

    Map<Integer, List<Row>> sheets = Thumbnails.topPerClass(ctx, pseudo, perClass, size);
    long[] selectedHist = histogram(pseudo.select(col("score")), bins);
    long[] top1Hist =
        histogram(
            Tables.SCORES.read(ctx)
                .select(functions.element_at(col("probs"), 1).as("score")),
            bins);

    String html = new Page(ctx.runId(), selectManifest, metrics, counts, precision, sheets, selectedHist, top1Hist, size,
        ClassNames.of(ctx)).render();
    ctx.writeString(new Path(out, HTML), html);
    long thumbs = sheets.values().stream().mapToLong(List::size).sum();
    report.count("classes", counts.size())
        .count("thumbnails", thumbs)
        .count("html_bytes", html.length())
        .detail("images_per_class", perClass);
  }

  /** Counts of a [0, 1] score column in equal bins (the last bin includes 1.0). */
  private static long[] histogram(Dataset<Row> scores, int bins) {
    long[] h = new long[bins];
    List<Row> rows =
        scores.filter(col("score").isNotNull())
            .select(functions.least(functions.floor(col("score").multiply(bins)), functions.lit(bins - 1)).cast("int").as("bin"))
            .groupBy("bin").count()
            .collectAsList();
    for (Row r : rows) {
      int b = Math.max(0, r.getInt(0));
      h[b] += r.getLong(1);
    }
    return h;
  }

  /** The HTML page, built as a string: no template engine for one page. */
  private record Page(
      String runId,
      JsonNode select,
      JsonNode metrics,
      List<Row> counts,
      Map<Integer, Row> precision,
      Map<Integer, List<Row>> sheets,
      long[] selectedHist,
      long[] top1Hist,
      int size,
      Map<String, String> readableNames) {

    String render() {
      StringBuilder h = new StringBuilder(1 << 16);
      h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>semisup run ")
          .append(esc(runId)).append(" - pseudo-labels</title>\n<style>\n")
          .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}")
          .append("table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
          .append("th{background:#f3f3f3}td.name,th.name{text-align:left}tr.short td{background:#fff3e0}")
          .append(".sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(").append(size + 8).append("px,1fr));gap:6px;margin-bottom:24px}")
          .append("figure{margin:0;text-align:center;font-size:11px}figure img{image-rendering:pixelated;border:1px solid #999;width:")
          .append(size).append("px;height:").append(size).append("px;object-fit:contain;background:#000}")
          .append(".missing{display:inline-block;width:").append(size).append("px;height:").append(size)
          .append("px;background:repeating-linear-gradient(45deg,#eee,#eee 4px,#ccc 4px,#ccc 8px)}")
          .append("\n</style></head><body>\n");
      h.append("<h1>Pseudo-labels of run <code>").append(esc(runId)).append("</code></h1>\n");
      JsonNode d = select.path("details");
      JsonNode c = select.path("counts");
      h.append("<p>K = ").append(d.path("k").asText("?")).append(", P = ").append(d.path("p").asText("?"))
          .append("; ").append(c.path("scored_images").asLong()).append(" images scored, ")
          .append(c.path("selected").asLong()).append(" pseudo-labels on ")
          .append(c.path("distinct_images").asLong()).append(" distinct images.</p>\n");
      accuracy(h);
      classes(h);
      histograms(h);
      contactSheets(h);
      h.append("</body></html>\n");
      return h.toString();
    }

    private void accuracy(StringBuilder h) {
      h.append("<h2 id=\"accuracy\">Accuracy on the held-out split</h2>\n<table><tr><th class=\"name\">model</th><th>top-1</th><th>top-5</th></tr>\n");
      for (String model : List.of("teacher", "student", "finetuned")) {
        JsonNode m = metrics.path(model);
        if (m.isMissingNode()) {
          continue;
        }
        h.append("<tr><td class=\"name\">").append(model).append("</td><td>").append(pct(m.path("top1").asDouble()))
            .append("</td><td>").append(pct(m.path("top5").asDouble())).append("</td></tr>\n");
      }
      h.append("</table>\n");
      JsonNode p = metrics.path("pseudo_label_precision");
      h.append("<p>Pseudo-label precision: ")
          .append(p.isNumber() ? pct(p.asDouble()) : "not measured (no true labels for the unlabelled images)")
          .append("; ").append(metrics.path("val_images").asLong()).append(" held-out images.</p>\n");
      audit(h);
    }

    /** The membership audit's verdict (the audit stage puts it into metrics.json). */
    private void audit(StringBuilder h) {
      JsonNode a = metrics.path(AuditStage.METRICS_KEY);
      h.append("<h2 id=\"audit\">Membership audit (Deja Vu)</h2>\n<p>");
      if (a.isMissingNode() || !a.path("enabled").asBoolean(false)) {
        h.append("Not run (audit.enabled = false).</p>\n");
        return;
      }
      h.append(String.format(java.util.Locale.ROOT,
          "Verdict for the %s model: <b>%s</b> (%s, one-sided %s p = %.3g at alpha %.3g). Mean loss on the true label:"
              + " %.4f on %d suspect images, %.4f on %d reference images (%s); membership AUC %.3f, KS D+ %.4f (p = %.3g).</p>\n",
          a.path("model").asText(), a.path("verdict").asText(), a.path("method").asText(), a.path("test").asText(),
          a.path("p_value").asDouble(), a.path("alpha").asDouble(), a.path("suspect_mean_loss").asDouble(),
          a.path("suspect_images").asLong(), a.path("reference_mean_loss").asDouble(), a.path("reference_images").asLong(),
          a.path("reference").asText(), a.path("membership_auc").asDouble(), a.path("ks_d_plus").asDouble(),
          a.path("ks_p").asDouble()));
    }

    private void classes(StringBuilder h) {
      List<String> shortOfK = new ArrayList<>();
      h.append("<h2 id=\"classes\">Counts per class</h2>\n<table><tr><th>class</th><th class=\"name\">name</th><th>candidates</th>")
          .append("<th>selected</th><th>threshold</th><th>correct</th><th>precision</th></tr>\n");
      for (Row r : counts) {
        int cls = r.getInt(r.fieldIndex("class"));
        String name = r.getString(r.fieldIndex("class_name"));
        boolean isShort = r.getBoolean(r.fieldIndex("short_of_k"));
        if (isShort) {
          shortOfK.add(name);
        }
        Row p = precision.get(cls);
        h.append("<tr").append(isShort ? " class=\"short\"" : "").append("><td>").append(cls)
            .append("</td><td class=\"name\"><a href=\"#class-").append(cls).append("\">").append(esc(ClassNames.label(readableNames, name))).append("</a></td><td>")
            .append(r.getLong(r.fieldIndex("candidates"))).append("</td><td>").append(r.getLong(r.fieldIndex("selected")))
            .append("</td><td>").append(String.format(Locale.ROOT, "%.4f", r.getFloat(r.fieldIndex("threshold"))))
            .append("</td><td>").append(p == null ? "" : String.valueOf(p.getLong(p.fieldIndex("correct"))))
            .append("</td><td>").append(p == null || p.isNullAt(p.fieldIndex("precision")) ? "" : pct(p.getDouble(p.fieldIndex("precision"))))
            .append("</td></tr>\n");
      }
      h.append("</table>\n<h3 id=\"short\">Classes short of K</h3>\n<p>")
          .append(shortOfK.isEmpty() ? "None: every class has at least K candidates." : esc(String.join(", ", shortOfK)))
          .append("</p>\n");
    }

    private void histograms(StringBuilder h) {
      h.append("<h2 id=\"scores\">Score distribution</h2>\n");
      Map<String, long[]> series = new LinkedHashMap<>();
      series.put("Teacher's top-1 probability, all scored images", top1Hist);
      series.put("Score of the selected pseudo-labels", selectedHist);
      for (Map.Entry<String, long[]> e : series.entrySet()) {
        h.append("<h3>").append(esc(e.getKey())).append("</h3>\n").append(svgHistogram(e.getValue())).append('\n');
      }
    }

    private static String svgHistogram(long[] counts) {
      int width = 520;
      int height = 160;
      int left = 40;
      int bottom = 20;
      long max = 1;
      for (long c : counts) {
        max = Math.max(max, c);
      }
      double bar = (double) (width - left) / counts.length;
      StringBuilder s = new StringBuilder();
      s.append("<svg class=\"histogram\" width=\"").append(width + 20).append("\" height=\"")
          .append(height + bottom).append("\" role=\"img\">");
      s.append("<line x1=\"").append(left).append("\" y1=\"").append(height).append("\" x2=\"").append(width)
          .append("\" y2=\"").append(height).append("\" stroke=\"#444\"/>");
      s.append("<text x=\"0\" y=\"12\" font-size=\"11\">").append(max).append("</text>");
      for (int i = 0; i < counts.length; i++) {
        double bh = (height - 10) * (double) counts[i] / max;
        s.append(String.format(Locale.ROOT,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3b7dd8\"><title>%.2f-%.2f: %d</title></rect>",
            left + i * bar + 1, height - bh, Math.max(1, bar - 2), bh,
            (double) i / counts.length, (double) (i + 1) / counts.length, counts[i]));
      }
      for (int t = 0; t <= 4; t++) {
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%.2f</text>",
            left + t * (width - left) / 4.0, height + 15, t / 4.0));
      }
      return s.append("</svg>").toString();
    }

    private void contactSheets(StringBuilder h) {
      h.append("<h2 id=\"sheets\">Top selected images per class</h2>\n");
      Base64.Encoder b64 = Base64.getEncoder();
      for (Row r : counts) {
        int cls = r.getInt(r.fieldIndex("class"));
        String name = r.getString(r.fieldIndex("class_name"));
        List<Row> thumbs = sheets.getOrDefault(cls, List.of());
        h.append("<h3 id=\"class-").append(cls).append("\">").append(cls).append(" ").append(esc(ClassNames.label(readableNames, name))).append(" (")
            .append(r.getLong(r.fieldIndex("selected"))).append(" selected)</h3>\n<div class=\"sheet\">\n");
        if (thumbs.isEmpty()) {
          h.append("<p>No image selected for this class.</p>\n");
        }
        for (Row t : thumbs) {
          String caption = String.format(Locale.ROOT, "#%d %.3f", t.getInt(1), t.getFloat(3));
          h.append("<figure title=\"").append(esc(t.getString(2))).append("\">");
          if (t.isNullAt(4)) {
            h.append("<span class=\"missing\"></span>");
          } else {
            h.append("<img alt=\"").append(esc(name)).append(' ').append(caption).append("\" src=\"data:image/png;base64,")
                .append(b64.encodeToString((byte[]) t.get(4))).append("\">");
          }
          h.append("<figcaption>").append(caption).append("</figcaption></figure>\n");
        }
        h.append("</div>\n");
      }
    }

    private static String pct(double v) {
      return String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    private static String esc(String s) {
      return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
  }
}
