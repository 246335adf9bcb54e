package io.semisup.jobs.stages;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.tables.Table;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Turns the Fashion-MNIST IDX files into the layout a real user has: labelled images in ImageNet
 * layout ({@code train/<class>/<file>.png}, {@code val/<class>/<file>.png}), an {@code unlabelled/}
 * folder without labels, a {@code validation/<class>/<file>.png} folder ({@code data.validation-size}
 * pool images, carved out of the pool by a seeded draw: their labels only choose settings, the
 * test split {@code val/} only reports), and {@code hidden_labels.csv} holding the unlabelled images' true labels (the {@link TruthFile} format),
 * read only by evaluate to measure pseudo-label precision. The rest of the pipeline never sees the
 * IDX files, so it runs unchanged on a user's own folders.
 */
public final class ImportFashionMnistStage extends Stage {

  public static final String NAME = "import-fashion-mnist";
  public static final String HIDDEN_LABELS = "hidden_labels.csv";
  /** The folder of the validation split: pool images whose labels only choose settings. */
  public static final String VALIDATION = "validation";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Fashion-MNIST IDX files -> train/<class>/, val/<class>/, unlabelled/ PNG folders.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of();
  }

  /** Reads IDX files, not tables. */
  @Override
  public List<Table> inputs() {
    return List.of();
  }

  /** Writes image folders and {@link #HIDDEN_LABELS}, not tables. */
  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected List<String> configKeys() {
    return List.of("data.fashion-mnist-dir", "data.labelled-per-class", "data.unlabelled-limit",
        "data.val-limit", "data.validation-size", "seed");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    SemisupConfig c = ctx.config();
    java.nio.file.Path dir = Paths.get(c.settings().data().fashionMnistDir());
    FashionMnist train = FashionMnist.load(dir, true);
    FashionMnist test = FashionMnist.load(dir, false);
    int perClass = c.settings().data().labelledPerClass();
    long seed = c.settings().run().seed();
    int numClasses = FashionMnist.CLASS_NAMES.size();

    // Seeded choice of the labelled subset: perClass images of each class.
    List<List<Integer>> byClass = new ArrayList<>();
    for (int k = 0; k < numClasses; k++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < train.size(); i++) {
      byClass.get(train.label(i)).add(i);
    }
    Random rnd = new Random(seed);
    boolean[] labelled = new boolean[train.size()];
    for (List<Integer> idx : byClass) {
      if (idx.size() < perClass) {
        throw new UsageError(
            "Cannot take " + perClass + " labelled images per class: a class has only " + idx.size()
                + ". Lower data.labelled-per-class.");
      }
      Collections.shuffle(idx, rnd);
      for (int j = 0; j < perClass; j++) {
        labelled[idx.get(j)] = true;
      }
    }
    List<Integer> unlabelled = new ArrayList<>();
    for (int i = 0; i < train.size(); i++) {
      if (!labelled[i]) {
        unlabelled.add(i);
      }
    }
    List<Integer> validation = carveValidation(unlabelled, c.settings().data().validationSize(), seed);
    int unlabelledLimit = c.settings().data().unlabelledLimit();
    if (unlabelledLimit > 0 && unlabelledLimit < unlabelled.size()) {
      Collections.shuffle(unlabelled, new Random(seed + 1));
      unlabelled = new ArrayList<>(unlabelled.subList(0, unlabelledLimit));
      Collections.sort(unlabelled);
    }
    int valLimit = c.settings().data().valLimit();
    int valCount = valLimit > 0 ? Math.min(valLimit, test.size()) : test.size();

    List<GreyImage> files = new ArrayList<>();
    // The truth file format (TruthFile): path relative to the unlabelled folder, class folder name.
    StringBuilder hidden = new StringBuilder("path,class\n");
    for (int i = 0; i < train.size(); i++) {
      if (labelled[i]) {
        String cls = FashionMnist.CLASS_NAMES.get(train.label(i));
        files.add(new GreyImage("train/" + cls + "/fmnist-train-" + i + ".png", train.pixels(i)));
      }
    }
    for (int i : unlabelled) {
      String file = "fmnist-train-" + i + ".png";
      files.add(new GreyImage("unlabelled/" + file, train.pixels(i)));
      hidden.append(file).append(',').append(FashionMnist.CLASS_NAMES.get(train.label(i))).append('\n');
    }
    for (int i : validation) {
      String cls = FashionMnist.CLASS_NAMES.get(train.label(i));
      files.add(new GreyImage("validation/" + cls + "/fmnist-train-" + i + ".png", train.pixels(i)));
    }
    for (int i = 0; i < valCount; i++) {
      String cls = FashionMnist.CLASS_NAMES.get(test.label(i));
      files.add(new GreyImage("val/" + cls + "/fmnist-test-" + i + ".png", test.pixels(i)));
    }

    // Writing 70k files is parallel work: Spark tasks encode and write them.
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    Broadcast<SerializableConfiguration> conf =
        jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
    String base = out.toString();
    long written =
        jsc.parallelize(files, Math.max(2, files.size() / 5000))
            .mapPartitions(
                it -> {
                  FileSystem fs = new Path(base).getFileSystem(conf.value().value());
                  long n = 0;
                  while (it.hasNext()) {
                    GreyImage f = it.next();
                    write(fs, new Path(base, f.relative()), f.png());
                    n++;
                  }
                  return List.of(n).iterator();
                })
            .reduce(Long::sum);
    // Every split exists even when empty: all 60,000 labelled (the ablation's ceiling) leaves
    // no unlabelled image, and shard reads all three folders.
    for (String split : List.of("train", "val", VALIDATION, "unlabelled")) {
      ctx.fs().mkdirs(new Path(out, split));
    }
    ctx.writeString(new Path(out, HIDDEN_LABELS), hidden.toString());
    report
        .count("labelled", (long) perClass * numClasses)
        .count("unlabelled", unlabelled.size())
        .count("val", valCount)
        .count(VALIDATION, validation.size())
        .count("files_written", written)
        .detail("classes", FashionMnist.CLASS_NAMES)
        .detail("source", dir.toString());
  }

  /**
   * Removes a seeded draw of {@code size} images from {@code pool} (indices of the training
   * images, in order) and returns them sorted: the validation split. Drawn before
   * {@code data.unlabelled-limit} cuts the pool, so a smaller pool never shares an image with it.
   * Its own random stream ({@code seed + 2}): the labelled draw and the pool limit stay as they
   * were without a validation split.
   */
  static List<Integer> carveValidation(List<Integer> pool, int size, long seed) {
    if (size == 0) {
      return List.of();
    }
    if (size > pool.size()) {
      throw new UsageError("Cannot carve " + size + " validation images out of a pool of " + pool.size()
          + ". Lower data.validation-size.");
    }
    List<Integer> shuffled = new ArrayList<>(pool);
    Collections.shuffle(shuffled, new Random(seed + 2));
    List<Integer> validation = new ArrayList<>(shuffled.subList(0, size));
    Collections.sort(validation);
    pool.removeAll(new java.util.HashSet<>(validation));
    return validation;
  }

  /**
   * Writes one file. On the local file system plain NIO: Hadoop's local file system costs a
   * checksum file and permission calls per file, which dominate for 70k tiny PNGs.
   */
  static void write(FileSystem fs, Path file, byte[] bytes) throws IOException {
    if ("file".equals(fs.getScheme())) {
      java.nio.file.Path p = Paths.get(file.toUri());
      java.nio.file.Files.createDirectories(p.getParent());
      java.nio.file.Files.write(p, bytes);
      return;
    }
    try (OutputStream os = fs.create(file, true)) {
      os.write(bytes);
    }
  }

  /** One image to write: path relative to the stage output, and its raw 8-bit grey pixels. */
  record GreyImage(String relative, byte[] pixels) implements Serializable {

    /** PNG bytes of a square grey image. */
    byte[] png() {
      int side = (int) Math.round(Math.sqrt(pixels.length));
      BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
      img.getRaster().setDataElements(0, 0, side, side, pixels);
      ByteArrayOutputStream bos = new ByteArrayOutputStream(512);
      try {
        ImageIO.write(img, "png", bos);
      } catch (IOException e) {
        throw new IllegalStateException("Cannot encode " + relative + " as PNG: " + e.getMessage(), e);
      }
      return bos.toByteArray();
    }
  }
}
