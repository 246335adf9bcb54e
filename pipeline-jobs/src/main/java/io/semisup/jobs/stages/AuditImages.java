package io.semisup.jobs.stages;

import io.semisup.core.UsageError;
import io.semisup.core.image.ContentHash;
import io.semisup.jobs.spark.ImageSource;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The images an audit reads, as (image_id, uri, bytes, label) rows: the run's val split, or a
 * folder in ImageNet layout given by {@code audit.suspect-dir} / {@code audit.reference-dir}.
 * A folder is read on the driver: an audit set is evaluation-sized (10^3 to 10^5 images), and
 * its labels must use the run's class indices, which a folder name maps to.
 */
final class AuditImages {

  static final StructType SCHEMA =
      new StructType()
          .add("image_id", DataTypes.StringType, false)
          .add("uri", DataTypes.StringType, false)
          .add("bytes", DataTypes.BinaryType, false)
          .add("label", DataTypes.IntegerType, true);

  private AuditImages() {}

  /** The val split's labelled images. */
  static Dataset<Row> valSplit(RunContext ctx) {
    return Images.split(ctx, Tables.VAL).select("image_id", "uri", "bytes", "label");
  }

  /** A labelled folder; a class folder the run does not know is an error naming the key. */
  static Dataset<Row> folder(RunContext ctx, String key, String dir) {
    List<String> classes = Classes.of(ctx);
    List<Row> listed = new ImageSource("audit", dir, false, true).list(ctx.spark())
        .filter("reason is null").select("uri", "label_name").collectAsList();
    if (listed.isEmpty()) {
      throw new UsageError("Cannot audit with " + key + " = " + dir + ": it holds no images."
          + " Point it at a folder of <class>/<file> images.");
    }
    List<Row> rows = new ArrayList<>();
    for (Row r : listed) {
      String uri = r.getString(0);
      int label = classes.indexOf(r.getString(1));
      if (label < 0) {
        throw new UsageError("Cannot audit " + uri + " (" + key + " = " + dir + "): its folder '" + r.getString(1)
            + "' is not one of the run's classes " + classes + ". Use the training set's class folder names.");
      }
      byte[] bytes = ctx.readBytes(new Path(uri));
      rows.add(RowFactory.create(ContentHash.of(bytes), uri, bytes, label));
    }
    return ctx.spark().createDataFrame(rows, SCHEMA);
  }
}
