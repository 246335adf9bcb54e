package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.spark.ImageSource;
import io.semisup.jobs.tables.Tables;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shard} from a listing of 10^5 URIs: a few thousand real images written here, a few bad
 * ones, and tens of thousands of URIs of files that do not exist. Nothing stops the stage; every
 * line ends up kept, duplicate or rejected with its reason; shards come out near the target size.
 * (The same at 10^6 URIs, with the demo's real images, is in docs/benchmarks.md.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardListingTest extends SparkTestBase {

  static final int LINES = 100_000;
  static final int REAL = 3_000;
  static final int COPIES = 20;
  static final long TARGET_BYTES = 64 * 1024;

  @TempDir static Path root;
  Path listing;

  /** A 28x28 grey PNG of seeded noise: distinct per seed, about 900 bytes. */
  static byte[] png(long seed) throws IOException {
    Random rnd = new Random(seed);
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  @BeforeAll
  void writeImagesAndListing() throws IOException {
    for (String split : List.of("train", "val")) {
      for (String cls : List.of("a", "b")) {
        Path d = Files.createDirectories(root.resolve(split).resolve(cls));
        for (int i = 0; i < 3; i++) {
          Files.write(d.resolve(i + ".png"), png(split.hashCode() * 31L + cls.hashCode() * 7L + i));
        }
      }
    }
    Path images = Files.createDirectories(root.resolve("web"));
    listing = root.resolve("listing.txt");
    Random rnd = new Random(5);
    List<String> lines = new ArrayList<>(LINES);
    for (int i = 0; i < REAL; i++) {
      Path p = images.resolve("img" + i + ".png");
      Files.write(p, png(1000 + i));
      lines.add(p.toUri().toString());
    }
    for (int i = 0; i < COPIES; i++) { // byte-identical copies of real images: duplicates
      Path p = images.resolve("copy" + i + ".png");
      Files.copy(images.resolve("img" + i + ".png"), p);
      lines.add(p.toString());
    }
    Files.writeString(images.resolve("notes.png"), "not an image");
    lines.add(images.resolve("notes.png").toString());
    Files.write(images.resolve("empty.png"), new byte[0]);
    lines.add(images.resolve("empty.png").toString());
    while (lines.size() < LINES) { // gone from the web since the crawl
      lines.add("file:" + images.resolve("missing/" + lines.size() + ".jpg"));
    }
    java.util.Collections.shuffle(lines, rnd);
    try (BufferedWriter w = Files.newBufferedWriter(listing)) {
      w.write("# a listing: one URI per line, blank lines and comments ignored\n\n");
      for (String l : lines) {
        w.write(l);
        w.write('\n');
      }
    }
  }

  private RunContext ctx(String run) {
    return context(root.resolve("runs"), run,
        "data.train-dir=\"" + root.resolve("train") + "\"",
        "data.val-dir=\"" + root.resolve("val") + "\"",
        "data.unlabelled-listing=\"" + listing + "\"",
        "shard.target-shard-bytes=" + TARGET_BYTES);
  }

  @Test
  void everyLineIsKeptDuplicateOrRejectedAndShardsHitTheTargetSize() throws IOException {
    RunContext ctx = ctx("listing");
    new ShardStage().execute(ctx);

    JsonNode c = ctx.manifest(ShardStage.NAME).get("counts");
    long read = c.get("unlabelled_read").asLong();
    long kept = c.get("unlabelled_kept").asLong();
    long dups = c.get("unlabelled_duplicates").asLong();
    long rejected = c.get("unlabelled_rejected").asLong();
    long sameAsLabelled = c.get("unlabelled_same_as_labelled").asLong();
    assertThat(read).isEqualTo(LINES);
    assertThat(kept).isEqualTo(REAL);
    assertThat(dups).isEqualTo(COPIES);
    assertThat(sameAsLabelled).isZero();
    assertThat(kept + dups + rejected + sameAsLabelled).isEqualTo(read);

    Map<String, Long> reasons =
        Tables.SHARD_REJECTS.read(ctx)
            .filter("split = 'unlabelled'").groupBy("reason").count().collectAsList().stream()
            .collect(Collectors.toMap(r -> r.getString(0), r -> r.getLong(1)));
    assertThat(reasons)
        .containsOnly(
            Map.entry("NOT_FOUND", (long) LINES - REAL - COPIES - 2),
            Map.entry("NOT_AN_IMAGE", 1L),
            Map.entry("EMPTY", 1L));

    // Kept images are exactly the real ones, bytes intact.
    List<Row> rows = Images.split(ctx, Tables.UNLABELLED)
        .select("uri", "bytes").collectAsList();
    assertThat(rows).hasSize(REAL);
    Row any = rows.stream().filter(r -> r.getString(0).endsWith("/img2500.png")).findFirst().orElseThrow();
    assertThat((byte[]) any.get(1)).isEqualTo(png(3500)); // not one of the copied images, so its own uri is kept

    // Shards of about the target size: each within [0.5, 1.5]x, their mean within 15%.
    List<Long> sizes;
    Path shardDir = Path.of(Tables.IMAGES.partitionDir(ctx, Tables.UNLABELLED).toUri());
    try (Stream<Path> files = Files.list(shardDir)) {
      sizes = files.filter(p -> p.getFileName().toString().endsWith(".parquet"))
          .map(p -> p.toFile().length()).collect(Collectors.toList());
    }
    assertThat(c.get("unlabelled_shards").asLong()).isEqualTo(sizes.size());
    assertThat(sizes.size()).isGreaterThan(20);
    double mean = sizes.stream().mapToLong(Long::longValue).average().orElseThrow();
    assertThat(mean).as("mean shard bytes %s", sizes).isBetween(0.85 * TARGET_BYTES, 1.15 * TARGET_BYTES);
    assertThat(sizes).allMatch(s -> s > 0.5 * TARGET_BYTES && s < 1.5 * TARGET_BYTES);
  }

  @Test
  void aListingIsSpreadOverTasksWithoutTheDriverHoldingIt() {
    ImageSource src = new ImageSource("unlabelled", listing.toString(), true, false);
    assertThat(src.list(spark).rdd().getNumPartitions()).isEqualTo(ImageSource.listingTasks(LINES, 2)).isEqualTo(20);
    assertThat(ImageSource.listingTasks(3, 2)).isEqualTo(2);
    assertThat(ImageSource.listingTasks(1, 8)).isEqualTo(1);
    assertThat(ImageSource.listingTasks(1_000_000_000L, 2)).isEqualTo(200_000);
  }
  @Test
  void anEmptyUnlabelledFolderShardsToNoImages() throws IOException {
    // All images labelled (the ablation's all-labels ceiling): an empty unlabelled split is fine.
    Path empty = Files.createDirectories(root.resolve("no-unlabelled"));
    RunContext ctx = context(root.resolve("runs"), "all-labelled",
        "data.train-dir=\"" + root.resolve("train") + "\"",
        "data.val-dir=\"" + root.resolve("val") + "\"",
        "data.unlabelled-dir=\"" + empty + "\"",
        "data.allow-empty-unlabelled=true");
    new ShardStage().execute(ctx);
    JsonNode c = ctx.manifest(ShardStage.NAME).get("counts");
    assertThat(c.get("unlabelled_read").asLong()).isZero();
    assertThat(c.get("unlabelled_kept").asLong()).isZero();
    assertThat(c.get("train_kept").asLong()).isEqualTo(6);
    assertThat(Images.split(ctx, Tables.TRAIN).count())
        .isEqualTo(6);
  }
}
