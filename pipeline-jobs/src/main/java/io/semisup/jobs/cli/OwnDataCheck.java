package io.semisup.jobs.cli;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.UsageError;
import io.semisup.core.image.ChannelStatistics;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.jobs.config.DataSettings;
import io.semisup.jobs.config.Settings;
import io.semisup.jobs.spark.ImageSource;
import io.semisup.jobs.stages.InputStatistics;
import io.semisup.jobs.stages.TrainingInput;
import io.semisup.jobs.stages.TruthFile;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What {@code bin/semisup run} checks on a user's data before its first stage, so that a mistake
 * costs seconds, not a trained teacher: the labelled and test folders have class folders holding
 * files (and the validation folder, when given, holds only training classes), the unlabelled
 * folder or listing names files, the images' colour agrees with the
 * configured input ({@link TrainingInput}'s rule, on a few decoded labelled images), and the
 * truth file parses, names training classes and only images of the unlabelled set. Each failure
 * is one {@link UsageError} naming the option and setting to fix.
 */
final class OwnDataCheck {

  /** Labelled images decoded to check their colour against the configured channels. */
  static final int COLOUR_SAMPLE = 32;

  private OwnDataCheck() {}

  static void check(SparkSession spark, Settings s) {
    DataSettings d = s.data();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<String> classes = classes(conf, d.trainDir());
    List<Row> train = listed(spark, new ImageSource(Tables.TRAIN, d.trainDir(), false, true),
        "--labelled (data.train-dir)");
    listed(spark, new ImageSource(Tables.VAL, d.valDir(), false, true), "--test (data.val-dir)");
    if (!d.validationDir().isEmpty()) {
      listed(spark, new ImageSource(Tables.VALIDATION, d.validationDir(), false, true),
          "--validation (data.validation-dir)");
      List<String> unknown = new java.util.ArrayList<>(classes(conf, d.validationDir()));
      unknown.removeAll(classes);
      if (!unknown.isEmpty()) {
        throw new UsageError("Cannot validate on " + d.validationDir() + ": class folder(s) " + unknown
            + " are not classes of --labelled. Give --validation the same class folders as --labelled.");
      }
    }
    boolean listing = !d.unlabelledListing().isEmpty();
    ImageSource unlabelledSource = listing
        ? new ImageSource(Tables.UNLABELLED, d.unlabelledListing(), true, false)
        : new ImageSource(Tables.UNLABELLED, d.unlabelledDir(), false, false);
    List<Row> unlabelled = d.allowEmptyUnlabelled()
        ? unlabelledSource.list(spark).select("uri").collectAsList()
        : listed(spark, unlabelledSource, listing ? "--unlabelled-listing (data.unlabelled-listing)"
            : "--unlabelled (data.unlabelled-dir)");
    TrainingInput.resolve(s.model(), InputStatistics.of(sample(conf, train)));
    if (!d.hiddenLabels().isEmpty()) {
      TruthFile truth = TruthFile.load(conf, d.hiddenLabels(), listing ? null : d.unlabelledDir());
      truth.checkClasses(classes);
      Set<String> uris = new HashSet<>();
      unlabelled.forEach(r -> uris.add(r.getString(0)));
      truth.checkPaths(uris::contains);
    }
  }

  private static List<String> classes(Configuration conf, String trainDir) {
    Path dir = new Path(trainDir);
    try {
      return ImageSource.classNames(dir.getFileSystem(conf), dir);
    } catch (IOException e) {
      throw new UsageError("Cannot read --labelled " + trainDir + ": " + e.getMessage() + ".", e);
    }
  }

  /** The uris of a source's files (rows the listing could not read left out); none is an error. */
  private static List<Row> listed(SparkSession spark, ImageSource source, String option) {
    List<Row> rows = source.list(spark).filter(col("reason").isNull()).select("uri").orderBy("uri").collectAsList();
    if (rows.isEmpty()) {
      throw new UsageError("Cannot run on " + source.location() + ": it holds no files. Point " + option + " at "
          + (source.labelled() ? "a folder of <class>/<image> files." : "the unlabelled images."));
    }
    return rows;
  }

  /** Colour statistics of the first {@link #COLOUR_SAMPLE} labelled files that decode. */
  private static ChannelStatistics sample(Configuration conf, List<Row> train) {
    ChannelStatistics stats = new ChannelStatistics();
    ImageDecoder decoder = new ImageDecoder(64L << 20, 100_000_000L);
    for (Row r : train) {
      if (stats.images() >= COLOUR_SAMPLE) {
        break;
      }
      Path p = new Path(r.getString(0));
      try (InputStream in = p.getFileSystem(conf).open(p)) {
        stats.add(decoder.decode(in.readNBytes(64 << 20)).image());
      } catch (IOException | ImageRejectedException e) {
        // Not an image: shard rejects it with its reason; the colour check looks at the next one.
      }
    }
    return stats;
  }

  /** Whether a path given on the command line is on the local file system (no scheme). */
  static boolean isLocal(String path) {
    return !path.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*");
  }
}
