package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.core.image.ImageDecoder;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's own-data command, copied from the README (so the two cannot drift), on a small
 * ImageNet-layout set of colour JPEGs made here: wnid folders, {@code .JPEG}, nested unlabelled
 * folders repeating file names, stray files, a truth TSV for part of the pool. The run must
 * complete with the wnids as classes, a 3-channel teacher normalised by the mean and std of the
 * labelled images (recomputed here), and a precision equal to the count made here from
 * {@code export}'s pseudo-labels and the truth file, joined on the full path.
 */
class RunOwnImagesTest {

  private static final List<String> WNIDS = List.of("n01440764", "n02102040", "n02979186");
  /** A hue per class: learnable from colour alone, with noise and a random shape on top. */
  private static final Color[] HUES = {new Color(200, 60, 50), new Color(50, 170, 70), new Color(60, 80, 210)};
  private static final int SIDE = 32;

  @TempDir Path dir;

  @Test
  void readmeOwnDataCommandRunsOnImagenetLayoutColourJpegs() throws Exception {
    Path data = dir.resolve("data");
    Random rnd = new Random(7);
    List<Path> train = new ArrayList<>();
    for (int c = 0; c < WNIDS.size(); c++) {
      for (int i = 0; i < 16; i++) {
        train.add(jpeg(data.resolve("train/" + WNIDS.get(c) + "/" + WNIDS.get(c) + "_" + i + ".JPEG"), c, rnd));
      }
      for (int i = 0; i < 8; i++) {
        jpeg(data.resolve("val/" + WNIDS.get(c) + "/ILSVRC2012_val_" + c + "_" + i + ".JPEG"), c, rnd);
      }
    }
    // Two crawl folders repeating the same file names with other content and classes.
    StringBuilder truth = new StringBuilder("path\tclass\n");
    Map<String, String> truthByUri = new HashMap<>();
    for (String folder : List.of("crawl/a", "crawl/b/deeper")) {
      for (int i = 0; i < 24; i++) {
        int c = (i + (folder.startsWith("crawl/a") ? 0 : 1)) % WNIDS.size();
        String rel = folder + "/img_" + i + ".JPEG";
        Path file = jpeg(data.resolve("unlabelled/" + rel), c, rnd);
        if (i % 3 != 2) { // the truth covers two thirds of the pool
          truth.append(rel).append('\t').append(WNIDS.get(c)).append('\n');
          truthByUri.put("file:" + file.toAbsolutePath(), WNIDS.get(c));
        }
      }
    }
    Files.writeString(data.resolve("unlabelled/crawl/readme.txt"), "not an image");
    Files.write(data.resolve("unlabelled/crawl/b/broken.JPEG"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
    Files.writeString(data.resolve("truth.tsv"), truth);

    List<String> args = readmeCommand(data);
    args.addAll(List.of("--root", dir.resolve("runs").toString()));
    for (String s : new String[] {"model.input.size=" + SIDE, "teacher.epochs=3", "teacher.batch-size=16",
        "student.epochs=1", "student.labelled-repeat=1", "student.batch-size=32", "select.k=12",
        "score.batch-size=32", "spark.conf.\"spark.sql.shuffle.partitions\"=2"}) {
      args.add("--set");
      args.add(s);
    }
    String out = cli(args);
    Matcher m = Pattern.compile("run: (.*)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    Path run = Path.of(m.group(1).replaceFirst("^file:", ""));
    ObjectMapper json = new ObjectMapper();
    JsonNode metrics = json.readTree(run.resolve("evaluate/metrics.json").toFile());

    assertThat(json.readTree(run.resolve("shard/classes.json").toFile()).get("classes"))
        .extracting(JsonNode::asText).containsExactlyElementsOf(WNIDS);
    JsonNode input;
    try (ZipFile zip = new ZipFile(run.resolve("teacher/model.zip").toFile())) {
      input = json.readTree(zip.getInputStream(zip.getEntry("metadata.json"))).get("input");
    }
    assertThat(input.get("channels").asInt()).isEqualTo(3);
    assertThat(input.get("height").asInt()).isEqualTo(SIDE);
    double[][] expected = meanAndStd(train);
    for (int c = 0; c < 3; c++) {
      assertThat(input.get("mean").get(c).asDouble()).isCloseTo(expected[0][c], within(1e-4));
      assertThat(input.get("std").get(c).asDouble()).isCloseTo(expected[1][c], within(1e-4));
    }

    // Precision counted here: export's pseudo-labels joined with the truth file on the full path.
    Path export = dir.resolve("export");
    cli(new ArrayList<>(List.of("export", "--root", dir.resolve("runs").toString(), "--run-id", "mine",
        "--out", export.toString())));
    long selected = 0;
    long correct = 0;
    List<String> classNames = new ArrayList<>();
    try (Stream<Path> parts = Files.list(export.resolve("pseudo_labels"))) {
      for (Path part : parts.filter(p -> p.getFileName().toString().endsWith(".csv")).toList()) {
        List<String> lines = Files.readAllLines(part);
        List<String> header = List.of(lines.get(0).split(","));
        for (String line : lines.subList(1, lines.size())) {
          String[] f = line.split(",");
          String cls = f[header.indexOf("class_name")];
          classNames.add(cls);
          String trueClass = truthByUri.get(f[header.indexOf("uri")]);
          if (trueClass != null) {
            selected++;
            correct += trueClass.equals(cls) ? 1 : 0;
          }
        }
      }
    }
    assertThat(classNames).isNotEmpty().allMatch(WNIDS::contains);
    assertThat(selected).isPositive();
    assertThat(metrics.get("pseudo_label_precision").asDouble()).isEqualTo((double) correct / selected);
  }

  /** The fenced command between the README's own-data markers, with its paths under {@code data}. */
  private static List<String> readmeCommand(Path data) throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int begin = readme.indexOf("<!-- own-data-command:begin -->");
    int end = readme.indexOf("<!-- own-data-command:end -->");
    assertThat(begin).as("README own-data markers").isNotNegative().isLessThan(end);
    String block = readme.substring(begin, end).replaceAll("(?s).*```bash\\n(.*)```.*", "$1");
    List<String> words = new ArrayList<>(List.of(block.replace("\\\n", " ").trim().split("\\s+")));
    assertThat(words.subList(0, 2)).containsExactly("bin/semisup", "run");
    words.remove(0);
    words.replaceAll(w -> w.startsWith("data/") ? data.resolve(w.substring("data/".length())).toString() : w);
    return words;
  }

  private static String cli(List<String> args) {
    PrintStream old = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code = SemisupCli.commandLine().execute(args.toArray(new String[0]));
    } finally {
      System.setOut(old);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertThat(code).as(out).isZero();
    return out;
  }

  /** A colour JPEG of class {@code c}: its hue with noise, and a random rectangle of another shade. */
  private static Path jpeg(Path file, int c, Random rnd) throws Exception {
    BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_3BYTE_BGR);
    Color hue = HUES[c];
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        img.setRGB(x, y, new Color(noisy(hue.getRed(), rnd), noisy(hue.getGreen(), rnd), noisy(hue.getBlue(), rnd)).getRGB());
      }
    }
    Graphics2D g = img.createGraphics();
    g.setColor(hue.darker());
    g.fillRect(rnd.nextInt(SIDE / 2), rnd.nextInt(SIDE / 2), 4 + rnd.nextInt(SIDE / 2), 4 + rnd.nextInt(SIDE / 2));
    g.dispose();
    Files.createDirectories(file.getParent());
    assertThat(ImageIO.write(img, "jpeg", file.toFile())).isTrue();
    return file;
  }

  private static int noisy(int v, Random rnd) {
    return Math.max(0, Math.min(255, v + (int) Math.round(rnd.nextGaussian() * 40)));
  }

  /** Per-channel mean and population std of pixel/255 over the images, R, G, B. */
  private static double[][] meanAndStd(List<Path> files) throws Exception {
    double[] sum = new double[3];
    double[] squares = new double[3];
    long n = 0;
    ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
    for (Path f : files) {
      BufferedImage img = decoder.decode(Files.readAllBytes(f)).image();
      for (int y = 0; y < img.getHeight(); y++) {
        for (int x = 0; x < img.getWidth(); x++) {
          int rgb = img.getRGB(x, y);
          double[] v = {((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0};
          for (int c = 0; c < 3; c++) {
            sum[c] += v[c];
            squares[c] += v[c] * v[c];
          }
          n++;
        }
      }
    }
    double[][] out = new double[2][3];
    for (int c = 0; c < 3; c++) {
      out[0][c] = sum[c] / n;
      out[1][c] = Math.sqrt(squares[c] / n - out[0][c] * out[0][c]);
    }
    return out;
  }
}
