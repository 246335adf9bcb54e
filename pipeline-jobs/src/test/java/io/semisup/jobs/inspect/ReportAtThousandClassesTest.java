package io.semisup.jobs.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.stages.ReportStage;
import io.semisup.jobs.stages.RunContext;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report at 1,000 classes (the acceptance check of inspection at scale), on a synthetic run ({@link SyntheticRun}:
 * 8 images per class, 4 selected, true labels known): an index page plus one page per class, no
 * HTML file over 2 MB, every value escaped, the index and a class page loaded by headless
 * Chromium within 3 s each, and the class page's screenshot showing the images around the
 * threshold.
 */
class ReportAtThousandClassesTest extends SparkTestBase {

  private static final int CLASSES = 1000;
  private static final long MAX_HTML_BYTES = 2L * 1024 * 1024;
  /** The required bound on a page's load, measured by the page itself (performance.now() at its load event). */
  private static final double MAX_LOAD_MS = 3000;

  @TempDir static Path root;
  @TempDir static Path work;

  private Path report;

  @BeforeAll
  void writeRunAndReport() throws Exception {
    RunContext ctx = ctx();
    new SyntheticRun(CLASSES, 8, 4).write(ctx, root);
    new ReportStage().execute(ctx);
    report = root.resolve("r").resolve(ReportStage.NAME);
  }

  private RunContext ctx() {
    return context(root, "r", "report.images-per-class=4", "report.borderline-per-class=3", "report.wrong-per-class=2",
        "report.thumbnail-size=48", "data.hidden-labels=\"" + SyntheticRun.hiddenLabels(root) + "\"");
  }

  @Test
  void oneSmallPagePerClassPlusAnIndex() throws Exception {
    List<Path> pages;
    try (Stream<Path> files = Files.walk(report)) {
      pages = files.filter(f -> f.toString().endsWith(".html")).toList();
    }
    assertThat(pages).hasSize(CLASSES + 1);
    for (Path p : pages) {
      assertThat(Files.size(p)).as("size of %s", p).isLessThanOrEqualTo(MAX_HTML_BYTES);
    }
    assertThat(report.resolve(ReportPages.HEATMAP)).exists();
    String index = Files.readString(report.resolve(ReportStage.HTML));
    assertThat(index)
        .contains("Counts per class", "Classes short of K", "Accuracy on the held-out split", "Pseudo-label precision: ")
        .as("validation beside test; a model without a validation figure says so")
        .contains("<td class=\"name\">teacher</td><td>81.00%</td><td>80.00%</td><td>95.00%</td>")
        .contains("<td class=\"name\">student</td><td>no validation split</td><td>82.00%</td>")
        .contains("100 test images, 50 validation images")
        .contains("Confusions (true labels known)", "href=\"classes/999.html\"", "src=\"confusion.png\"")
        .as("the hostile class name is text, not markup")
        .contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;")
        .doesNotContain("<b>bold</b>", "<script", "http://", "https://");
    // Every class's 4th pseudo-label is the next class: 1,000 distinct confusions, 20 listed.
    assertThat(count(index, "<td class=\"name\"><a href=\"classes/")).isEqualTo(CLASSES + 20);

    String page = Files.readString(report.resolve(ReportPages.classPage(12)));
    assertThat(section(page, "above")).as("lowest selected: ranks 2-4").contains("#2 ", "#3 ", "#4 ").doesNotContain("#1 ");
    assertThat(section(page, "below")).as("best not selected: ranks 5-7").contains("#5 ", "#6 ", "#7 ").doesNotContain("#8 ");
    assertThat(count(section(page, "above"), "<img ")).isEqualTo(3);
    assertThat(count(section(page, "below"), "<img ")).isEqualTo(3);
    assertThat(page).contains("class=\"threshold\"", "threshold 0.8000", "Wrong pseudo-labels", "(class_0013)", "href=\"13.html\"");
    assertThat(Files.readString(report.resolve(ReportPages.classPage(7)))).doesNotContain("<b>bold</b>");
  }

  @Test
  void indexAndClassPageLoadInChromiumWithinThreeSecondsAndShowTheBorderline() throws Exception {
    Prerequisites.chromium();
    HeadlessChromium chromium = new HeadlessChromium(work);
    for (Path page : List.of(report.resolve(ReportStage.HTML), report.resolve(ReportPages.classPage(500)))) {
      Map<String, String> check = check(chromium, page);
      double ms = Double.parseDouble(check.get("load-ms"));
      System.out.printf("report page %s: load event after %.0f ms, %s images decoded%n", report.relativize(page), ms, check.get("images"));
      assertThat(ms).as("load time of %s in ms", page).isLessThan(MAX_LOAD_MS);
      String[] images = check.get("images").split("/");
      assertThat(images[1]).as("images decoded by Chromium on %s", page).isEqualTo(images[0]);
    }

    Path classPage = report.resolve(ReportPages.classPage(500));
    Map<String, String> check = check(chromium, classPage);
    int[] above = rect(check.get("above"));
    int[] below = rect(check.get("below"));
    BufferedImage shot = ImageIO.read(chromium.screenshot(classPage, 1000, 700).toFile());
    Path keep = Files.createDirectories(Path.of("target", "inspect-report"));
    ImageIO.write(shot, "png", keep.resolve("class-page-1000-classes.png").toFile());
    for (int[] r : List.of(above, below)) {
      assertThat(r[1] + r[3]).as("borderline section inside the first screen: %s", java.util.Arrays.toString(r)).isLessThan(700);
      double[] stats = HeadlessChromium.pixelStats(shot, r[0], r[1], r[2], r[3]);
      // Noise thumbnails: a wide spread of grey levels; text or empty boxes have a few levels only.
      assertThat(stats[0]).as("luminance std in %s", java.util.Arrays.toString(r)).isGreaterThan(30);
      assertThat(stats[1]).as("grey levels in %s", java.util.Arrays.toString(r)).isGreaterThan(60);
    }
  }

  /** The page's own report of its load: time, images decoded, the borderline sections' rectangles. */
  private Map<String, String> check(HeadlessChromium chromium, Path page) throws Exception {
    String script =
        "<script>window.addEventListener('load', () => { const ms = performance.now();"
            + " const all = Array.from(document.images); const ok = all.filter(i => i.complete && i.naturalWidth > 0);"
            + " const r = id => { const e = document.getElementById(id); if (!e) return '0,0,0,0';"
            + " const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height].map(Math.round).join(','); };"
            + " const d = document.body.dataset; d.loadMs = ms.toFixed(1); d.images = all.length + '/' + ok.length;"
            + " d.above = r('above'); d.below = r('below'); });</script>";
    Path copy = page.resolveSibling("check-" + page.getFileName());
    Files.writeString(copy, Files.readString(page).replace("</body>", script + "</body>"));
    String dom = chromium.dumpDom(copy);
    Map<String, String> out = new java.util.HashMap<>();
    for (String key : List.of("load-ms", "images", "above", "below")) {
      Matcher m = Pattern.compile("data-" + key + "=\"([^\"]*)\"").matcher(dom);
      assertThat(m.find()).as("data-%s in the DOM of %s", key, page).isTrue();
      out.put(key, m.group(1));
    }
    Files.delete(copy);
    return out;
  }

  private static int[] rect(String s) {
    return java.util.Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private static String section(String html, String id) {
    int start = html.indexOf("<section id=\"" + id + "\">");
    assertThat(start).as("section %s", id).isNotNegative();
    return html.substring(start, html.indexOf("</section>", start));
  }

  private static long count(String s, String needle) {
    return Pattern.compile(Pattern.quote(needle)).matcher(s).results().count();
  }
}
