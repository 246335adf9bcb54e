package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.UsageError;
import io.semisup.core.image.DecodedImage;
import io.semisup.core.image.HostileImages;
import io.semisup.core.image.ImageDecoder;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard stage over {@link HostileCorpus}: every file is kept (and decodes to the right
 * colours and orientation) or rejected with its specific reason, file-system traps do not stop
 * or stall the run, duplicates are listed with the copy kept, and the counts add up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileCorpusShardTest extends SparkTestBase {

  @TempDir static Path dir;
  HostileCorpus corpus;
  RunContext ctx;

  @BeforeAll
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void shardTheCorpus() throws IOException {
    corpus = HostileCorpus.write(dir.resolve("data"));
    ctx = context(dir.resolve("runs"), "hostile",
        "data.train-dir=\"" + corpus.train + "\"",
        "data.val-dir=\"" + corpus.val + "\"",
        "data.unlabelled-dir=\"" + corpus.unlabelled + "\"",
        "shard.max-decode-millis=300");
    new ShardStage().afterListing(() -> {
      try {
        Files.delete(corpus.vanishing); // listed, then gone before its task reads it
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).execute(ctx);
  }

  @AfterAll
  void restore() throws IOException {
    corpus.restorePermissions();
  }

  private static String name(String uri) {
    return uri.replaceAll(".*/", "");
  }

  @Test
  void everyUnlabelledFileIsKeptOrRejectedWithItsOwnReason() {
    Map<String, String> outcome = new HashMap<>();
    for (Row r : Tables.IMAGES.read(ctx).filter("split = 'unlabelled'")
        .select("uri").collectAsList()) {
      outcome.put(name(r.getString(0)), HostileCorpus.KEPT);
    }
    for (Row r : Tables.SHARD_REJECTS.read(ctx)
        .filter("split = 'unlabelled'").select("uri", "reason").collectAsList()) {
      assertThat(outcome.put(name(r.getString(0)), r.getString(1))).as("%s in one place only", r.getString(0)).isNull();
    }
    for (Row r : Tables.DUPLICATES.read(ctx)
        .filter("split = 'unlabelled'").select("uri", "reason").collectAsList()) {
      assertThat(outcome.put(name(r.getString(0)), r.getString(1))).as("%s in one place only", r.getString(0)).isNull();
    }
    Map<String, String> expected = new HashMap<>();
    try (var files = Files.list(corpus.unlabelled)) {
      files.forEach(f -> {
        String n = f.getFileName().toString();
        if (!n.equals("cycle")) {
          expected.put(n, corpus.expected.get(n));
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    expected.put("back-up", "UNREADABLE"); // cycle/back-up -> ..
    expected.put(corpus.vanishing.getFileName().toString(), "NOT_FOUND");
    assertThat(outcome).containsExactlyInAnyOrderEntriesOf(expected);
  }

  @Test
  void rejectsSayWhatWasWrongWithThePath() {
    Map<String, String> detail = new HashMap<>();
    for (Row r : Tables.SHARD_REJECTS.read(ctx).collectAsList()) {
      detail.put(name(r.getString(r.fieldIndex("uri"))), r.getString(r.fieldIndex("detail")));
    }
    assertThat(detail.get("fifo.jpg")).contains("not a regular file");
    assertThat(detail.get("self-loop.jpg")).contains("symlink loop");
    assertThat(detail.get("back-up")).contains("symlink loop");
    assertThat(detail.get("dangling.jpg")).contains("missing target");
    assertThat(detail.get("vanishing.png")).contains("gone");
    assertThat(detail.get("bomb.png")).contains("40000x40000");
    assertThat(detail.get("slow-progressive.jpg")).contains("300 ms");
    if (corpus.permissionCases) {
      assertThat(detail.get("no-permission.png")).contains("permission denied");
      assertThat(detail.get("closed-folder")).contains("cannot list folder");
    }
  }

  @Test
  void countsAddUpPerSplit() {
    JsonNode c = ctx.manifest(ShardStage.NAME).get("counts");
    for (String split : List.of("train", "val", "unlabelled")) {
      long read = c.get(split + "_read").asLong();
      long sum = c.get(split + "_kept").asLong() + c.get(split + "_duplicates").asLong()
          + c.get(split + "_rejected").asLong() + c.get(split + "_same_as_labelled").asLong();
      assertThat(sum).as("counts of %s add up", split).isEqualTo(read);
    }
    long expectedUnlabelled = corpus.expected.entrySet().stream()
        .filter(e -> Files.exists(corpus.unlabelled.resolve(e.getKey()), java.nio.file.LinkOption.NOFOLLOW_LINKS)
            || e.getKey().equals("back-up") || e.getKey().equals("vanishing.png"))
        .count();
    assertThat(c.get("unlabelled_read").asLong()).isEqualTo(expectedUnlabelled);
    assertThat(c.get("unlabelled_duplicates").asLong()).isEqualTo(1);
    assertThat(c.get("unlabelled_same_as_labelled").asLong()).isEqualTo(1);
    assertThat(c.get("train_read").asLong()).isEqualTo(9); // 6 + shared + cmyk + truncated
    assertThat(c.get("train_kept").asLong()).isEqualTo(7);
    assertThat(c.get("train_rejected").asLong()).isEqualTo(2); // truncated, shared with val
    assertThat(c.get("train_same_as_eval").asLong()).isEqualTo(1);
    assertThat(c.get("val_kept").asLong()).isEqualTo(7);
  }

  @Test
  void theSameImageInTrainAndValIsKeptByValAndEveryDropIsListedWithWhatWasKept() {
    List<String> dups = Tables.DUPLICATES.read(ctx)
        .collectAsList().stream()
        .map(r -> r.getString(r.fieldIndex("split")) + ":" + name(r.getString(r.fieldIndex("uri")))
            + " -> " + r.getString(r.fieldIndex("kept_split")) + ":" + name(r.getString(r.fieldIndex("kept_uri")))
            + " " + r.getString(r.fieldIndex("reason")))
        .toList();
    assertThat(dups).containsExactlyInAnyOrder(
        "unlabelled:dup-b.png -> unlabelled:dup-a.png DUPLICATE",
        "unlabelled:" + HostileCorpus.COPY_OF_TRAIN + " -> train:train-a0.png SAME_AS_LABELLED",
        "train:" + HostileCorpus.SHARED + " -> val:" + HostileCorpus.SHARED + " SAME_AS_EVAL");
    assertThat(Tables.IMAGES.read(ctx)
        .filter("uri like '%" + HostileCorpus.SHARED + "'").select("split").collectAsList())
        .extracting(r -> r.getString(0)).containsExactly("val");
    assertThat(Tables.SHARD_REJECTS.read(ctx)
        .filter("reason = 'SAME_AS_EVAL'").select("split", "detail").collectAsList())
        .singleElement().satisfies(r -> {
          assertThat(r.getString(0)).isEqualTo("train");
          assertThat(r.getString(1)).contains("val/a/" + HostileCorpus.SHARED);
        });
  }

  @Test
  void keptImagesAreUprightAndInTheirColours() throws Exception {
    Map<String, Row> kept = new HashMap<>();
    for (Row r : Tables.IMAGES.read(ctx).collectAsList()) {
      kept.put(name(r.getString(r.fieldIndex("uri"))), r);
    }
    Row rotated = kept.get(HostileCorpus.ROTATED);
    assertThat(rotated.getInt(rotated.fieldIndex("width"))).isEqualTo(32);
    assertThat(rotated.getInt(rotated.fieldIndex("height"))).isEqualTo(64);
    ImageDecoder decoder = new ImageDecoder(64L << 20, 100_000_000L);
    int[][] q = HostileImages.QUADRANTS;
    Map<String, int[][]> colours = Map.of(
        "cmyk.jpg", q, "ycck.jpg", q, "train-cmyk.jpg", q, "png16.png", q, "palette.gif", q,
        "image.bmp", q, "progressive.jpg", q, HostileCorpus.ROTATED, new int[][] {q[2], q[0], q[3], q[1]});
    for (Map.Entry<String, int[][]> e : colours.entrySet()) {
      Row r = kept.get(e.getKey());
      assertThat(r).as(e.getKey()).isNotNull();
      DecodedImage d = decoder.decode((byte[]) r.get(r.fieldIndex("bytes")));
      assertThat(HostileImages.colourError(d.image(), e.getValue())).as(e.getKey()).isLessThanOrEqualTo(12);
    }
  }

  @Test
  void anEmptySplitIsAUsageErrorNamingTheFolderUnlessAllowed() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty-unlabelled"));
    RunContext strict = context(dir.resolve("runs"), "empty",
        "data.train-dir=\"" + corpus.train + "\"",
        "data.val-dir=\"" + corpus.val + "\"",
        "data.unlabelled-dir=\"" + empty + "\"");
    assertThatThrownBy(() -> new ShardStage().execute(strict))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining(empty.toString())
        .hasMessageContaining("data.allow-empty-unlabelled");
    Path emptyVal = Files.createDirectories(dir.resolve("empty-val"));
    RunContext noVal = context(dir.resolve("runs"), "empty-val",
        "data.train-dir=\"" + corpus.train + "\"",
        "data.val-dir=\"" + emptyVal + "\"",
        "data.unlabelled-dir=\"" + corpus.train + "\"",
        "data.allow-empty-unlabelled=true");
    assertThatThrownBy(() -> new ShardStage().execute(noVal))
        .isInstanceOf(UsageError.class)
        .hasMessageContaining(emptyVal.toString())
        .hasMessageContaining("data.val-dir");
  }
}
