package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.inspect.NotebookParameters;
import io.semisup.jobs.inspect.SyntheticRun;
import io.semisup.jobs.stages.RunContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The notebook on a run with 1,000 classes (the acceptance check of inspection at scale): {@code semisup export} writes
 * the bounded views, and {@code jupyter nbconvert --execute} runs the notebook on them with its
 * parameters injected as papermill does (a cell after the one tagged {@code parameters}). The
 * notebook prints how many rows it brought into pandas; the test holds that number to the bound
 * its parameters imply, far below the run's 4,000 pseudo-labels and 8,000 scores.
 */
class InspectNotebookAtThousandClassesTest extends SparkTestBase {

  private static final int CLASSES = 1000;
  private static final int SHOWN = 12;
  private static final int TOP = 4;
  private static final int BORDER = 3;
  private static final int WRONG = 2;
  private static final int CONFUSIONS = 20;
  private static final int BINS = 20;

  @TempDir static Path root;
  @TempDir static Path work;

  private Path export;

  @BeforeAll
  void writeRunAndExport() throws Exception {
    RunContext ctx = context(root, "r", "data.hidden-labels=\"" + SyntheticRun.hiddenLabels(root) + "\"");
    new SyntheticRun(CLASSES, 8, 4).write(ctx, root);
    ExportCommand e = new ExportCommand();
    e.format = "csv";
    e.thumbnailsPerClass = TOP;
    e.borderlinePerClass = BORDER;
    e.wrongPerClass = WRONG;
    e.histogramBins = BINS;
    e.thumbnailSize = 32;
    e.scoresFraction = 1.0;
    export = Paths.get(e.export(ctx, new org.apache.hadoop.fs.Path(work.resolve("export").toString())).toUri());
  }

  @Test
  void exportHoldsTheBoundedViews() throws IOException {
    JsonNode index = RunContext.json().readTree(export.resolve("export.json").toFile());
    assertThat(index.get("tables")).extracting(JsonNode::asText)
        .contains("views", "class_histograms", "top1_histogram", "confusion");
    assertThat(index.get("truth_known").asBoolean()).isTrue();
    List<String> views = lines(export.resolve("views"));
    // Per class: 4 top, 3 above, 3 below, 1 wrong (the 4th pseudo-label's true class is the next one).
    assertThat(views).hasSize(CLASSES * (TOP + 2 * BORDER + 1));
    assertThat(views).anyMatch(l -> l.startsWith("below,12,class_0012,5,")).anyMatch(l -> l.startsWith("wrong,12,class_0012,4,"));
    assertThat(index.get("thumbnails").asLong()).isEqualTo((long) CLASSES * (TOP + BORDER));
  }

  @Test
  void notebookRunsOnTheExportWithinItsRowBound() throws Exception {
    Prerequisites.nbconvert();
    Prerequisites.python3("pandas", "matplotlib", "PIL");
    Path notebook = withParameters(Map.of("RUN_DIR", root.resolve("r").toString(), "EXPORT_DIR", export.toString(),
        "ROUTE", "export", "MAX_CLASSES_SHOWN", SHOWN, "IMAGES_PER_CLASS", TOP, "BORDERLINE", BORDER, "WRONG", WRONG,
        "TOP_CONFUSIONS", CONFUSIONS));
    ProcessBuilder pb = new ProcessBuilder(Prerequisites.nbconvert().toString(), "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=300", "--output-dir", work.toString(), "--output", "executed.ipynb", notebook.toString())
        .redirectErrorStream(true).redirectOutput(work.resolve("nbconvert.log").toFile());
    pb.environment().put("MPLBACKEND", "module://matplotlib_inline.backend_inline");
    Process p = pb.start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("nbconvert finished").isTrue();
    assertThat(p.exitValue()).as("nbconvert exit code: %s", Files.readString(work.resolve("nbconvert.log"))).isZero();

    JsonNode nb = RunContext.json().readTree(work.resolve("executed.ipynb").toFile());
    int figures = 0;
    StringBuilder text = new StringBuilder();
    for (JsonNode cell : nb.get("cells")) {
      for (JsonNode out : cell.path("outputs")) {
        assertThat(out.path("output_type").asText()).as("cell output %s", out).isNotEqualTo("error");
        if (out.path("data").has("image/png")) {
          figures++;
        }
        out.path("text").forEach(t -> text.append(t.asText()));
        out.path("data").path("text/plain").forEach(t -> text.append(t.asText()));
      }
    }
    assertThat(figures).as("top-1 histogram, class histograms, borderline, top and wrong grids").isEqualTo(5);
    assertThat(text.toString()).contains("route: export; 1000 classes, 4000 pseudo-labels", "Lowest precision",
        "1000 of 4000 pseudo-labels with a true label are wrong", "classes shown: ", "images shown for 12 classes");
    Matcher m = Pattern.compile("rows collected into pandas: (\\d+) ").matcher(text);
    assertThat(m.find()).as("the notebook's count of rows:%n%s", text).isTrue();
    long rows = Long.parseLong(m.group(1));
    // One row per class (counts with precision), the top-1 histogram, then per shown class its
    // views, its histogram bins and its thumbnails, and the listed confusions.
    long bound = CLASSES + BINS + (long) SHOWN * (TOP + 2 * BORDER + WRONG) + (long) SHOWN * BINS + CONFUSIONS
        + (long) SHOWN * (TOP + 2 * BORDER + WRONG);
    System.out.printf("notebook at %d classes: %d rows collected into pandas (bound %d)%n", CLASSES, rows, bound);
    assertThat(rows).as("rows brought into pandas").isPositive().isLessThanOrEqualTo(bound);
  }

  private static Path withParameters(Map<String, Object> values) throws IOException {
    return NotebookParameters.inject(repoRoot().resolve("deploy/notebooks/inspect_pseudo_labels.ipynb"), values,
        work.resolve("notebook-with-parameters.ipynb"));
  }

  private static List<String> lines(Path dir) throws IOException {
    try (var parts = Files.list(dir)) {
      return parts.filter(f -> f.getFileName().toString().startsWith("part-") && f.toString().endsWith(".csv")).sorted()
          .flatMap(f -> {
            try {
              List<String> l = Files.readAllLines(f);
              return l.isEmpty() ? l.stream() : l.subList(1, l.size()).stream();
            } catch (IOException x) {
              throw new java.io.UncheckedIOException(x);
            }
          }).toList();
    }
  }

  private static Path repoRoot() {
    Path dir = Paths.get("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("deploy"))) {
      dir = dir.getParent();
    }
    return dir;
  }
}
