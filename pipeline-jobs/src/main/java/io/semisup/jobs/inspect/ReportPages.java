package io.semisup.jobs.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * The report's HTML: an index page (run info, accuracy, confusions, score distributions, counts
 * per class with a link to each class's page) and one page per class (the images around its
 * threshold, its candidates' score histogram with the threshold marked, its top images and, where
 * true labels are known, its wrong pseudo-labels). Pages come from Mustache templates under
 * {@code io/semisup/jobs/inspect/}, which HTML-escape every {@code {{value}}}: class names and
 * file names reach the page as text, never as markup.
 *
 * <p>Thumbnails are embedded in their class's page as data: URIs: a page holds a few dozen small
 * PNGs (well under a megabyte), the index holds none, and a run of 1,000 classes is 1,001 HTML
 * files plus one heat-map PNG rather than tens of thousands of small files on HDFS. Pages are
 * rendered and written one at a time.
 */
public final class ReportPages {

  /** Index page's file name, the {@code report.html} a run has always had. */
  public static final String INDEX = "report.html";
  /** Folder of the class pages, beside the index. */
  public static final String CLASSES = "classes";
  /** The confusion heat-map, beside the index. */
  public static final String HEATMAP = "confusion.png";

  /** Receives each rendered page (path relative to the report folder). */
  @FunctionalInterface
  public interface Sink {
    void write(String relativePath, String html) throws IOException;
  }

  /** Everything the pages show, already collected on the driver (bounded by classes x a few rows). */
  public record Inputs(
      String runId,
      JsonNode select,
      JsonNode metrics,
      List<Row> counts,
      Map<Integer, Row> precision,
      Map<Integer, Map<String, List<Row>>> views,
      Map<String, byte[]> thumbnails,
      Map<Integer, long[]> classHistograms,
      Map<Integer, Float> thresholds,
      long[] top1Histogram,
      long[] selectedHistogram,
      List<Row> confusion,
      boolean truthKnown,
      int thumbnailSize,
      int topConfusions,
      Map<String, String> runInfo,
      Map<String, String> readableNames) {}

  private static final MustacheFactory TEMPLATES = new DefaultMustacheFactory("io/semisup/jobs/inspect");

  private final Inputs in;

  public ReportPages(Inputs in) {
    this.in = in;
  }

  /** Class page path relative to the report folder. */
  public static String classPage(int cls) {
    return CLASSES + "/" + cls + ".html";
  }

  /** Renders the index and every class page into {@code sink}; returns the largest page's length in chars. */
  public long writeAll(Sink sink) throws IOException {
    String index = render("index.mustache", indexModel());
    sink.write(INDEX, index);
    long largest = index.length();
    for (int i = 0; i < in.counts().size(); i++) {
      String page = render("class.mustache", classModel(i));
      sink.write(classPage(classOf(in.counts().get(i))), page);
      largest = Math.max(largest, page.length());
    }
    return largest;
  }

  private Map<String, Object> common() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runId", in.runId());
    m.put("size", in.thumbnailSize());
    m.put("cell", in.thumbnailSize() + 8);
    m.put("truthKnown", in.truthKnown());
    m.put("indexPage", INDEX);
    return m;
  }

  Map<String, Object> indexModel() {
    Map<String, Object> m = common();
    JsonNode d = in.select().path("details");
    JsonNode c = in.select().path("counts");
    m.put("k", d.path("k").asText("?"));
    m.put("p", d.path("p").asText("?"));
    m.put("scored", c.path("scored_images").asLong());
    m.put("selected", c.path("selected").asLong());
    m.put("distinct", c.path("distinct_images").asLong());
    m.put("classCount", in.counts().size());
    List<Map<String, Object>> info = new ArrayList<>();
    in.runInfo().forEach((k, v) -> info.add(Map.of("key", k, "value", v)));
    m.put("runInfo", info);
    List<Map<String, Object>> models = new ArrayList<>();
    for (String model : List.of("teacher", "student", "finetuned", "fixres")) {
      JsonNode mm = in.metrics().path(model);
      if (!mm.isMissingNode()) {
        JsonNode v = mm.path("validation_top1");
        models.add(Map.of("name", model, "top1", pct(mm.path("top1").asDouble()), "top5", pct(mm.path("top5").asDouble()),
            "validationTop1", v.isNumber() ? pct(v.asDouble()) : "no validation split"));
      }
    }
    m.put("models", models);
    JsonNode p = in.metrics().path("pseudo_label_precision");
    m.put("precision", p.isNumber() ? pct(p.asDouble()) : "not measured (no true labels for the unlabelled images)");
    m.put("valImages", in.metrics().path("val_images").asLong());
    m.put("validationImages", in.metrics().path("validation_images").asLong());
    m.put("audit", auditModel());
    m.put("confusion", in.truthKnown() ? confusionModel() : false);
    List<Map<String, Object>> hists = new ArrayList<>();
    hists.add(titled("Teacher's top-1 probability, all scored images", in.top1Histogram()));
    hists.add(titled("Score of the selected pseudo-labels", in.selectedHistogram()));
    m.put("histograms", hists);
    List<Map<String, Object>> classes = new ArrayList<>();
    List<String> shortOfK = new ArrayList<>();
    for (Row r : in.counts()) {
      int cls = classOf(r);
      Row pr = in.precision().get(cls);
      boolean isShort = r.getBoolean(r.fieldIndex("short_of_k"));
      if (isShort) {
        shortOfK.add(nameOf(r));
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("index", cls);
      row.put("name", display(r));
      row.put("href", classPage(cls));
      row.put("short", isShort);
      row.put("candidates", r.getLong(r.fieldIndex("candidates")));
      row.put("selected", r.getLong(r.fieldIndex("selected")));
      row.put("threshold", String.format(Locale.ROOT, "%.4f", r.getFloat(r.fieldIndex("threshold"))));
      row.put("correct", pr == null ? "" : String.valueOf(pr.getLong(pr.fieldIndex("correct"))));
      row.put("precision", pr == null || pr.isNullAt(pr.fieldIndex("precision")) ? "" : pct(pr.getDouble(pr.fieldIndex("precision"))));
      classes.add(row);
    }
    m.put("classes", classes);
    m.put("shortOfK", shortOfK.isEmpty() ? "None: every class has at least K candidates." : String.join(", ", shortOfK));
    return m;
  }

  private Map<String, Object> confusionModel() {
    Map<String, Long> rowTotals = new LinkedHashMap<>();
    long wrong = 0;
    long labelled = 0;
    List<Row> offDiagonal = new ArrayList<>();
    for (Row r : in.confusion()) {
      long n = r.getLong(r.fieldIndex("count"));
      String assigned = r.getString(r.fieldIndex("class_name"));
      rowTotals.merge(assigned, n, Long::sum);
      labelled += n;
      if (!assigned.equals(r.getString(r.fieldIndex("true_name")))) {
        wrong += n;
        offDiagonal.add(r);
      }
    }
    offDiagonal.sort((a, b) -> {
      int byCount = Long.compare(b.getLong(b.fieldIndex("count")), a.getLong(a.fieldIndex("count")));
      return byCount != 0 ? byCount : Integer.compare(a.getInt(a.fieldIndex("class")), b.getInt(b.fieldIndex("class")));
    });
    List<Map<String, Object>> pairs = new ArrayList<>();
    for (Row r : offDiagonal.subList(0, Math.min(in.topConfusions(), offDiagonal.size()))) {
      long n = r.getLong(r.fieldIndex("count"));
      String assigned = r.getString(r.fieldIndex("class_name"));
      pairs.add(Map.of("assigned", assigned, "href", classPage(r.getInt(r.fieldIndex("class"))),
          "truth", r.getString(r.fieldIndex("true_name")), "count", n, "share", pct((double) n / rowTotals.get(assigned))));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("wrong", wrong);
    m.put("labelled", labelled);
    m.put("pairs", pairs);
    m.put("heatmap", HEATMAP);
    m.put("heatmapSide", Math.max(200, Math.min(600, in.counts().size())));
    return m;
  }

  /** The membership audit's verdict, which the audit stage puts into metrics.json. */
  private Map<String, Object> auditModel() {
    JsonNode a = in.metrics().path(io.semisup.jobs.stages.AuditStage.METRICS_KEY);
    Map<String, Object> m = new LinkedHashMap<>();
    boolean ran = !a.isMissingNode() && a.path("enabled").asBoolean(false);
    m.put("ran", ran);
    if (ran) {
      m.put("summary", String.format(java.util.Locale.ROOT,
          "Verdict for the %s model: %s (%s, one-sided %s p = %.3g at alpha %.3g). Mean loss on the true label:"
              + " %.4f on %d suspect images, %.4f on %d reference images (%s); membership AUC %.3f, KS D+ %.4f (p = %.3g).",
          a.path("model").asText(), a.path("verdict").asText(), a.path("method").asText(), a.path("test").asText(),
          a.path("p_value").asDouble(), a.path("alpha").asDouble(), a.path("suspect_mean_loss").asDouble(),
          a.path("suspect_images").asLong(), a.path("reference_mean_loss").asDouble(), a.path("reference_images").asLong(),
          a.path("reference").asText(), a.path("membership_auc").asDouble(), a.path("ks_d_plus").asDouble(),
          a.path("ks_p").asDouble()));
    }
    return m;
  }

  Map<String, Object> classModel(int position) {
    Row r = in.counts().get(position);
    int cls = classOf(r);
    String name = nameOf(r);
    Map<String, Object> m = common();
    m.put("index", cls);
    m.put("name", display(r));
    m.put("candidates", r.getLong(r.fieldIndex("candidates")));
    m.put("selected", r.getLong(r.fieldIndex("selected")));
    m.put("short", r.getBoolean(r.fieldIndex("short_of_k")));
    Float threshold = in.thresholds().get(cls);
    m.put("threshold", threshold == null ? "none (nothing selected)" : String.format(Locale.ROOT, "%.4f", threshold));
    Row pr = in.precision().get(cls);
    boolean measured = pr != null && !pr.isNullAt(pr.fieldIndex("precision"));
    m.put("precision", measured ? pct(pr.getDouble(pr.fieldIndex("precision"))) : false);
    m.put("correct", pr == null ? "" : pr.getLong(pr.fieldIndex("correct")));
    m.put("prev", position == 0 ? false : link(in.counts().get(position - 1)));
    m.put("next", position == in.counts().size() - 1 ? false : link(in.counts().get(position + 1)));
    Map<String, List<Row>> views = in.views().getOrDefault(cls, Map.of());
    m.put("above", sheet(views.get(ClassViews.ABOVE), name, "No image selected for this class."));
    m.put("below", sheet(views.get(ClassViews.BELOW), name, "No candidate below the threshold."));
    m.put("top", sheet(views.get(ClassViews.TOP), name, "No image selected for this class."));
    m.put("wrong", sheet(views.get(ClassViews.WRONG), name, "No wrong pseudo-label among those with a true label."));
    long[] hist = in.classHistograms().getOrDefault(cls, new long[in.top1Histogram().length]);
    m.put("histogram", HistogramSvg.model("scores of the candidates of " + name, hist, threshold));
    return m;
  }

  private Map<String, Object> sheet(List<Row> rows, String className, String empty) {
    List<Map<String, Object>> images = new ArrayList<>();
    Base64.Encoder b64 = Base64.getEncoder();
    if (rows != null) {
      for (Row t : rows) {
        String id = t.getString(t.fieldIndex("image_id"));
        int rank = t.getInt(t.fieldIndex("rank"));
        float score = t.getFloat(t.fieldIndex("score"));
        String truth = t.isNullAt(t.fieldIndex("true_name")) ? null : t.getString(t.fieldIndex("true_name"));
        boolean wrong = truth != null && !truth.equals(className);
        String caption = String.format(Locale.ROOT, "#%d %.3f", rank, score) + (wrong ? " (" + truth + ")" : "");
        byte[] png = in.thumbnails().get(id);
        Map<String, Object> img = new LinkedHashMap<>();
        img.put("imageId", id);
        img.put("caption", caption);
        img.put("alt", className + " " + caption);
        img.put("src", png == null ? false : "data:image/png;base64," + b64.encodeToString(png));
        img.put("css", wrong ? "wrong" : "");
        images.add(img);
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", images);
    m.put("empty", empty);
    return m;
  }

  private Map<String, Object> link(Row r) {
    return Map.of("href", classOf(r) + ".html", "label", classOf(r) + " " + display(r));
  }

  private Map<String, Object> titled(String title, long[] counts) {
    Map<String, Object> m = HistogramSvg.model(title, counts, null);
    m.put("title", title);
    return m;
  }

  private static int classOf(Row r) {
    return r.getInt(r.fieldIndex("class"));
  }

  /** The class folder name with its readable name ({@code data.class-names}) where one is known. */
  private String display(Row r) {
    return io.semisup.jobs.stages.ClassNames.label(in.readableNames(), nameOf(r));
  }

  private static String nameOf(Row r) {
    return r.getString(r.fieldIndex("class_name"));
  }

  private static String render(String template, Map<String, Object> model) {
    Mustache mustache = TEMPLATES.compile(template);
    StringWriter w = new StringWriter(1 << 16);
    try {
      mustache.execute(w, model).flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.2f%%", 100 * v);
  }
}
