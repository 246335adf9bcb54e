package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.image.ContentHash;
import io.semisup.core.image.DecodedImage;
import io.semisup.core.image.HostileImages;
import io.semisup.core.image.ImageDecoder;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-ready shards ({@code shard.max-side}): an image larger than the side is stored as a JPEG
 * of that longest side, upright and in its colours, which decodes to the width and height the
 * table records; a smaller one keeps its original bytes; the id is the original bytes' hash.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelReadyShardTest extends SparkTestBase {

  @TempDir static Path dir;
  final Map<String, byte[]> originals = new HashMap<>();
  final Map<String, Row> kept = new HashMap<>();

  @BeforeAll
  void shardWithAMaxSide() throws IOException {
    Path train = dir.resolve("train");
    Path val = dir.resolve("val");
    Path unlabelled = Files.createDirectories(dir.resolve("unlabelled"));
    for (String cls : new String[] {"a", "b"}) {
      Files.createDirectories(train.resolve(cls));
      Files.createDirectories(val.resolve(cls));
      Files.write(train.resolve(cls).resolve("t.png"), HostileImages.png(HostileImages.quadrants(cls.equals("a") ? 8 : 9, 8)));
      Files.write(val.resolve(cls).resolve("v.png"), HostileImages.png(HostileImages.quadrants(cls.equals("a") ? 10 : 11, 8)));
    }
    put(unlabelled, "large.jpg", HostileImages.jpeg(HostileImages.quadrants(640, 480)));
    put(unlabelled, "turned.jpg", HostileImages.exifJpeg(640, 320, 6));
    put(unlabelled, "large.png", HostileImages.png(HostileImages.quadrants(400, 200)));
    put(unlabelled, "small.jpg", HostileImages.jpeg(HostileImages.quadrants(120, 90)));
    RunContext ctx = context(dir.resolve("runs"), "model-ready",
        "data.train-dir=\"" + train + "\"",
        "data.val-dir=\"" + val + "\"",
        "data.unlabelled-dir=\"" + unlabelled + "\"",
        "shard.max-side=160");
    new ShardStage().execute(ctx);
    for (Row r : Tables.IMAGES.read(ctx).filter("split = 'unlabelled'").collectAsList()) {
      kept.put(r.getString(r.fieldIndex("uri")).replaceAll(".*/", ""), r);
    }
  }

  private void put(Path folder, String name, byte[] bytes) throws IOException {
    Files.write(folder.resolve(name), bytes);
    originals.put(name, bytes);
  }

  @Test
  void largerImagesAreStoredAtTheMaxSideAndDecodeToTheRecordedSize() throws Exception {
    ImageDecoder decoder = new ImageDecoder(64L << 20, 100_000_000L);
    int[][] q = HostileImages.QUADRANTS;
    Object[][] cases = {
      {"large.jpg", 160, 120, q},
      {"large.png", 160, 80, q},
      // Stored 640x320 with orientation 6: upright 320x640, red green / blue grey turned clockwise.
      {"turned.jpg", 80, 160, new int[][] {q[2], q[0], q[3], q[1]}},
    };
    for (Object[] c : cases) {
      Row r = kept.get((String) c[0]);
      assertThat(r).as((String) c[0]).isNotNull();
      byte[] stored = (byte[]) r.get(r.fieldIndex("bytes"));
      assertThat(r.getInt(r.fieldIndex("width"))).as("%s width", c[0]).isEqualTo(c[1]);
      assertThat(r.getInt(r.fieldIndex("height"))).as("%s height", c[0]).isEqualTo(c[2]);
      assertThat(r.getString(r.fieldIndex("format"))).isEqualTo("jpeg");
      assertThat(r.getString(r.fieldIndex("image_id"))).isEqualTo(ContentHash.of(originals.get((String) c[0])));
      DecodedImage d = decoder.decode(stored);
      assertThat(d.width()).isEqualTo(c[1]);
      assertThat(d.height()).isEqualTo(c[2]);
      assertThat(HostileImages.colourError(d.image(), (int[][]) c[3])).as("%s colours", c[0]).isLessThanOrEqualTo(12);
    }
  }

  @Test
  void anImageWithinTheMaxSideKeepsItsOriginalBytes() {
    Row r = kept.get("small.jpg");
    assertThat((byte[]) r.get(r.fieldIndex("bytes"))).isEqualTo(originals.get("small.jpg"));
    assertThat(r.getInt(r.fieldIndex("width"))).isEqualTo(120);
    assertThat(r.getInt(r.fieldIndex("height"))).isEqualTo(90);
  }
}
