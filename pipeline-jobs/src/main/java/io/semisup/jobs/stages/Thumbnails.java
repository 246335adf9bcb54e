package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.tables.Tables;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * PNG thumbnails of each class's top-ranked pseudo-labelled images: the contact sheets of the
 * report page and the thumbnails {@code semisup export} writes. Executors decode and shrink the
 * images; only classes x images-per-class small PNGs reach the driver.
 */
public final class Thumbnails {

  /** One thumbnail row of the contact sheet. */
  public static final StructType THUMB =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("rank", DataTypes.IntegerType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("png", DataTypes.BinaryType, true);

  private Thumbnails() {}

  /**
   * The top {@code perClass} selected images of each class with PNG thumbnails, by class, rank
   * ascending; rows are {@link #THUMB} (png null when the bytes do not decode).
   */
  public static Map<Integer, List<Row>> topPerClass(RunContext ctx, int perClass, int size) {
    return topPerClass(ctx, Tables.PSEUDO_LABELS.read(ctx), perClass, size);
  }

  /** As {@link #topPerClass(RunContext, int, int)}, over rows of the pseudo-labels table already read. */
  static Map<Integer, List<Row>> topPerClass(RunContext ctx, Dataset<Row> pseudo, int perClass, int size) {
    Map<Integer, List<Row>> byClass = new TreeMap<>();
    if (perClass == 0) {
      return byClass;
    }
    Dataset<Row> top = pseudo.filter(col("rank").leq(perClass)).select("class", "rank", "image_id", "score");
    // An image may be selected for several classes (P > 1): fetch its bytes once.
    Dataset<Row> bytes =
        Images.split(ctx, Tables.UNLABELLED).select("image_id", "bytes")
            .join(top.select("image_id").distinct(), "image_id")
            .withColumn("n", functions.row_number().over(Window.partitionBy("image_id").orderBy("image_id")))
            .filter(col("n").equalTo(1))
            .drop("n");
    List<Row> rows =
        top.join(bytes, "image_id", "left")
            .select("class", "rank", "image_id", "score", "bytes")
            .map(new Thumbnail(size), Encoders.row(THUMB))
            .collectAsList();
    for (Row r : rows) {
      byClass.computeIfAbsent(r.getInt(0), c -> new ArrayList<>()).add(r);
    }
    byClass.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.getInt(1), b.getInt(1))));
    return byClass;
  }

  /**
   * PNG thumbnails of the unlabelled images whose ids {@code ids} (a column {@code image_id})
   * names, by image id (absent where the bytes do not decode). The ids, a few per class, are
   * broadcast to the image shards, so image bytes are never shuffled.
   */
  public static Map<String, byte[]> forImages(RunContext ctx, Dataset<Row> ids, int size) {
    Dataset<Row> wanted = ids.select("image_id").distinct();
    StructType schema = new StructType().add("image_id", DataTypes.StringType, false).add("png", DataTypes.BinaryType, true);
    List<Row> rows =
        Images.split(ctx, Tables.UNLABELLED).select("image_id", "bytes")
            .join(functions.broadcast(wanted), "image_id")
            .map((MapFunction<Row, Row>) r -> RowFactory.create(r.getString(0), thumbnailPng((byte[]) r.get(1), size)),
                Encoders.row(schema))
            .collectAsList();
    Map<String, byte[]> out = new java.util.HashMap<>();
    for (Row r : rows) {
      if (!r.isNullAt(1)) {
        out.putIfAbsent(r.getString(0), (byte[]) r.get(1));
      }
    }
    return out;
  }

  /**
   * A PNG thumbnail fitting in {@code size} x {@code size}; small images are enlarged without
   * smoothing so that 28-pixel images stay crisp. Returns null for undecodable bytes (the page
   * then shows a placeholder instead of failing the run).
   */
  public static byte[] thumbnailPng(byte[] image, int size) {
    if (image == null) {
      return null;
    }
    try {
      BufferedImage src = ImageIO.read(new ByteArrayInputStream(image));
      if (src == null) {
        return null;
      }
      double scale = Math.min((double) size / src.getWidth(), (double) size / src.getHeight());
      int w = Math.max(1, (int) Math.round(src.getWidth() * scale));
      int h = Math.max(1, (int) Math.round(src.getHeight() * scale));
      BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = dst.createGraphics();
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION,
          scale >= 1 ? RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(src, 0, 0, w, h, null);
      g.dispose();
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      ImageIO.write(dst, "png", bos);
      return bos.toByteArray();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** (class, rank, image_id, score, bytes) -> (class, rank, image_id, score, png thumbnail). */
  static final class Thumbnail implements MapFunction<Row, Row> {
    private final int size;

    Thumbnail(int size) {
      this.size = size;
    }

    @Override
    public Row call(Row r) {
      byte[] bytes = r.isNullAt(4) ? null : (byte[]) r.get(4);
      return RowFactory.create(r.getInt(0), r.getInt(1), r.getString(2), r.getFloat(3), thumbnailPng(bytes, size));
    }
  }
}
