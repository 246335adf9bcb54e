package io.semisup.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.inspect.HeadlessChromium;
import io.semisup.jobs.inspect.NotebookParameters;
import io.semisup.jobs.inspect.ReportPages;
import io.semisup.jobs.stages.ReportStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import io.semisup.jobs.tables.Tables;
import io.semisup.core.testing.Prerequisites;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ways a person looks at a run's pseudo-labels, on one small real run: the report stage's
 * index and class pages (a class page opened in headless Chromium: the thumbnails must really
 * render), {@code semisup export},
 * and the notebook executed headlessly by Jupyter on the export. Chromium and Jupyter are Debian
 * packages {@code .ci/run} installs; without them those tests are skipped (failed under
 * {@code CI=true}, see {@link Prerequisites}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InspectPseudoLabelsTest extends SparkTestBase {

  private static final String RUN = "inspect";
  private static final String NBCONVERT = "/usr/bin/jupyter-nbconvert";

  /** Every stage in about a minute: quality is not the point, the pages and files are. */
  private static final String[] SLICE = {
    "data.labelled-per-class=10",
    "data.unlabelled-limit=300", "data.validation-size=100",
    "data.val-limit=100",
    "teacher.epochs=4",
    "teacher.batch-size=16",
    "student.epochs=1", "student.labelled-repeat=1",
    "student.batch-size=32",
    "finetune.epochs=1",
    "finetune.batch-size=16",
    "select.k=12",
    "select.p=1",
    "score.top-p=3",
    "report.images-per-class=8",
  };

  @TempDir static Path root;
  @TempDir static Path work;

  private RunContext ctx() {
    return context(root, RUN, SLICE);
  }

  private Path reportFile() {
    return root.resolve(RUN).resolve(ReportStage.NAME).resolve(ReportStage.HTML);
  }

  @Test
  @Order(1)
  void reportPageHasEverySection() throws Exception {
    Prerequisites.fashionMnist();
    RunContext ctx = ctx();
    for (Stage s : StageGraph.standard().all()) {
      s.execute(ctx);
    }
    String html = Files.readString(reportFile());
    JsonNode counts = ctx.manifest(ReportStage.NAME).get("counts");
    List<Integer> classes = Tables.CLASS_COUNTS.read(ctx).select("class").as(org.apache.spark.sql.Encoders.INT()).collectAsList();
    assertThat(counts.get("pages").asLong()).isEqualTo(classes.size() + 1);
    // Each class page shows up to 8 top images, fewer for a class with fewer selected images.
    long expected = Tables.PSEUDO_LABELS.read(ctx).filter("rank <= 8").count();
    long shown = 0;
    long thresholds = 0;
    for (int c : classes) {
      String page = Files.readString(reportFile().resolveSibling(ReportPages.classPage(c)));
      shown += count(section(page, "top"), "<img ");
      // A class with nothing selected has no threshold to mark.
      thresholds += count(page, "class=\"threshold\"");
      assertThat(page).contains("<section id=\"above\">", "<section id=\"below\">")
          .doesNotContain("http://", "https://", "<script");
    }
    assertThat(shown).isEqualTo(expected).isPositive();
    assertThat(thresholds).isEqualTo(Tables.PSEUDO_LABELS.read(ctx).select("class").distinct().count());
    assertThat(counts.get("thumbnails").asLong()).isPositive();
    // The index carries no thumbnails: only the confusion heat-map (Fashion-MNIST's true labels are known).
    assertThat(count(html, "<img ")).isEqualTo(1);
    assertThat(count(html, "<svg")).isEqualTo(2);
    assertThat(html)
        .contains("Counts per class", "Classes short of K", "Accuracy on the held-out split", "Pseudo-label precision: ")
        .contains("Confusions (true labels known)", "t-shirt_top", "ankle_boot", "teacher", "finetuned")
        .as("no external resources, no scripts")
        .doesNotContain("http://", "https://", "<script");
    // A rerun is a no-op, as for every stage.
    assertThat(new ReportStage().execute(ctx).skipped()).isTrue();
  }

  @Test
  @Order(2)
  void thumbnailsRenderInHeadlessChromium() throws Exception {
    Prerequisites.fashionMnist();
    Prerequisites.chromium();
    assumeTrue(Files.exists(reportFile()), "needs the report of the previous test");
    // A class page, with a check that writes how many images decoded and where the borderline is.
    Path classPage = reportFile().resolveSibling(ReportPages.classPage(0));
    Path page = classPage.resolveSibling("check.html");
    String check =
        "<script>window.addEventListener('load', () => { const all = Array.from(document.images);"
            + " const ok = all.filter(i => i.complete && i.naturalWidth > 0);"
            + " const b = document.getElementById('above').getBoundingClientRect();"
            + " document.body.setAttribute('data-images', all.length + '/' + ok.length);"
            + " document.body.setAttribute('data-above', [b.left, b.top, b.width, b.height].map(Math.round).join(',')); });</script>";
    Files.writeString(page, Files.readString(classPage).replace("</body>", check + "</body>"));
    HeadlessChromium chromium = new HeadlessChromium(work);
    String dom = chromium.dumpDom(page);
    Files.delete(page);
    Matcher m = Pattern.compile("data-images=\"(\\d+)/(\\d+)\"").matcher(dom);
    assertThat(m.find()).as("the check ran in Chromium; DOM was:%n%s", dom.substring(0, Math.min(500, dom.length()))).isTrue();
    int all = Integer.parseInt(m.group(1));
    int decoded = Integer.parseInt(m.group(2));
    assertThat(all).isPositive();
    assertThat(decoded).as("images decoded by Chromium").isEqualTo(all);
    Matcher r = Pattern.compile("data-above=\"(\\d+),(\\d+),(\\d+),(\\d+)\"").matcher(dom);
    assertThat(r.find()).isTrue();

    // And the pixels: the images just above the threshold, screenshot, are not blank and image-like.
    Path png = chromium.screenshot(classPage, 1000, 700);
    // Kept for a human (and CI artifacts): the page and what Chromium made of it.
    Path keep = Files.createDirectories(Paths.get("target", "inspect-report"));
    Files.copy(classPage, keep.resolve("class-0.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(png, keep.resolve("class-0.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    BufferedImage shot = ImageIO.read(png.toFile());
    assertThat(shot).as("screenshot written").isNotNull();
    double[] stats = HeadlessChromium.pixelStats(shot, Integer.parseInt(r.group(1)), Integer.parseInt(r.group(2)),
        Integer.parseInt(r.group(3)), Integer.parseInt(r.group(4)));
    // Thumbnails are grey photos: many distinct grey levels, high variance; a page of text
    // or broken-image icons has a few levels only.
    assertThat(stats[0]).as("luminance std of the images above the threshold").isGreaterThan(40);
    assertThat(stats[1]).as("grey levels used by more than 20 pixels").isGreaterThan(60);
  }

  @Test
  @Order(3)
  void exportWritesTablesAndThumbnails() throws Exception {
    Prerequisites.fashionMnist();
    assumeTrue(Files.exists(reportFile()), "needs the run of the first test");
    long scored = ctx().manifest(io.semisup.jobs.stages.ScoreStage.NAME).get("counts").get("scored").asLong();
    for (String format : List.of("jsonl", "csv")) {
      List<String> args = new ArrayList<>(List.of("export", "--run-id", RUN, "--root", root.toString(), "--format", format,
          "--out", work.resolve("export-" + format).toString(), "--thumbnails-per-class", "6"));
      for (String s : SLICE) {
        args.add("--set");
        args.add(s);
      }
      // The command stops its Spark session, as the CLI does: this is the class's last Spark use.
      assertThat(SemisupCli.commandLine().execute(args.toArray(String[]::new))).as("export %s exit code", format).isZero();
    }
    Path csv = work.resolve("export-csv");
    JsonNode index = RunContext.json().readTree(csv.resolve("export.json").toFile());
    assertThat(index.get("tables")).extracting(JsonNode::asText).containsExactly("pseudo_labels", "class_counts", "scores", "precision",
        "views", "class_histograms", "top1_histogram", "confusion");
    List<String> pseudo = readParts(csv.resolve("pseudo_labels"), ".csv");
    assertThat(pseudo.get(0)).isEqualTo("class,class_name,rank,image_id,score,uri");
    assertThat(pseudo).hasSizeGreaterThan(10);
    List<String> scores = readParts(csv.resolve("scores"), ".csv");
    assertThat(scores).hasSize((int) scored + 1);
    assertThat(scores.get(1)).matches("[0-9a-f]{64},.*,\\d \\d \\d,[0-9.E-]+ [0-9.E-]+ [0-9.E-]+,.*");
    try (Stream<Path> thumbs = Files.list(csv.resolve("thumbnails"))) {
      // Hadoop's local file system leaves hidden .crc files beside each PNG: count the images.
      long pngs = thumbs.map(t -> t.getFileName().toString()).filter(f -> f.endsWith(".png") && !f.startsWith(".")).count();
      assertThat(pngs).isEqualTo(index.get("thumbnails").asLong()).isPositive();
    }
    assertThat(csv.resolve("metrics.json")).exists();
    List<String> jsonl = readParts(work.resolve("export-jsonl").resolve("pseudo_labels"), ".json");
    assertThat(RunContext.json().readTree(jsonl.get(0)).get("class_name").asText()).isNotEmpty();
    assertThat(jsonl).hasSize(pseudo.size() - 1);
  }

  @Test
  @Order(4)
  void notebookRunsHeadlesslyOnTheExport() throws Exception {
    Prerequisites.fashionMnist();
    Prerequisites.nbconvert();
    Prerequisites.python3("pandas", "matplotlib", "PIL");
    Path export = work.resolve("export-csv");
    assumeTrue(Files.exists(export.resolve("export.json")), "needs the export of the previous test");
    Path notebook = NotebookParameters.inject(repoRoot().resolve("deploy/notebooks/inspect_pseudo_labels.ipynb"),
        Map.of("RUN_DIR", root.resolve(RUN).toString(), "EXPORT_DIR", export.toString(), "ROUTE", "export"),
        work.resolve("notebook-with-parameters.ipynb"));
    ProcessBuilder pb = new ProcessBuilder(NBCONVERT, "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=300", "--output-dir", work.toString(), "--output", "executed.ipynb", notebook.toString())
        .redirectErrorStream(true);
    pb.environment().put("MPLBACKEND", "module://matplotlib_inline.backend_inline");
    String output = run(pb, 300);
    Path executed = work.resolve("executed.ipynb");
    assertThat(executed).as("nbconvert output:%n%s", output).exists();
    JsonNode nb = RunContext.json().readTree(executed.toFile());
    int images = 0;
    StringBuilder text = new StringBuilder();
    for (JsonNode cell : nb.get("cells")) {
      for (JsonNode out : cell.path("outputs")) {
        assertThat(out.path("output_type").asText()).as("cell output %s", out).isNotEqualTo("error");
        if (out.path("data").has("image/png")) {
          images++;
        }
        out.path("text").forEach(t -> text.append(t.asText()));
        out.path("data").path("text/plain").forEach(t -> text.append(t.asText()));
      }
    }
    assertThat(images).as("figures: top-1 histogram, class histograms, borderline and top grids (and wrong, if any)").isBetween(4, 5);
    assertThat(text.toString()).contains("route: export", "pseudo-labels", "Lowest precision", "images shown for",
        "rows collected into pandas: ");
  }

  private static String section(String html, String id) {
    int start = html.indexOf("<section id=\"" + id + "\">");
    assertThat(start).as("section %s", id).isNotNegative();
    return html.substring(start, html.indexOf("</section>", start));
  }

  private static String run(ProcessBuilder pb, long timeoutS) throws Exception {
    Path out = Files.createTempFile(work, "process", ".out");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(pb.command().get(0) + " did not finish in " + timeoutS + " s: " + Files.readString(out));
    }
    String text = Files.readString(out);
    assertThat(p.exitValue()).as("%s exit code; output:%n%s", pb.command(), text).isZero();
    return text;
  }

  private static List<String> readParts(Path dir, String suffix) throws IOException {
    List<String> lines = new ArrayList<>();
    boolean header = false;
    try (Stream<Path> parts = Files.list(dir)) {
      for (Path p : (Iterable<Path>) parts.filter(f -> f.getFileName().toString().startsWith("part-")
          && f.getFileName().toString().endsWith(suffix)).sorted()::iterator) {
        List<String> l = Files.readAllLines(p, StandardCharsets.UTF_8);
        if (suffix.equals(".csv") && header && !l.isEmpty()) {
          l = l.subList(1, l.size());
        }
        header |= !l.isEmpty();
        lines.addAll(l);
      }
    }
    return lines;
  }

  private static long count(String s, String needle) {
    return Pattern.compile(Pattern.quote(needle)).matcher(s).results().count();
  }

  static Path repoRoot() {
    Path dir = Paths.get("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("deploy"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("Cannot find the repository's deploy/ folder above " + Paths.get("").toAbsolutePath());
    }
    return dir;
  }
}
