package io.semisup.jobs.stages;

import io.semisup.core.UsageError;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The true classes of (some of) the unlabelled images, used only to measure the pseudo-labels'
 * precision ({@code --truth}, {@code data.hidden-labels}). One format: a TSV ({@code .tsv}) or
 * CSV ({@code .csv}; other names: tab if the first line has one, else comma) of two fields per
 * line, the image (a path relative to the unlabelled folder, or a full URI or absolute path) and
 * its class (a training folder name); an optional header line {@code path<sep>class} (also
 * {@code uri}/{@code file} and {@code label}/{@code label_name}); empty lines and lines starting
 * with {@code #} are skipped. Images are identified by their full URI, never their base name:
 * crawled data repeats file names across folders.
 *
 * <p>Loading checks the format; {@link #checkClasses} and {@link #checkPaths} check the content.
 * Every problem is a {@link UsageError} naming the file and line, raised before any work.
 */
public final class TruthFile {

  /** One line: the image's full URI (as shard's listing writes it) and its true class. */
  public record Entry(int line, String uri, String className) {}

  private static final Set<String> PATH_HEADERS = Set.of("path", "uri", "file");
  private static final Set<String> CLASS_HEADERS = Set.of("class", "label", "label_name");

  private final Path file;
  private final List<Entry> entries;

  private TruthFile(Path file, List<Entry> entries) {
    this.file = file;
    this.entries = List.copyOf(entries);
  }

  /**
   * Reads and checks the format of {@code file}.
   *
   * @param unlabelledRoot the unlabelled folder relative paths are resolved against, or null when
   *     the unlabelled images come from a listing (then every path must be a full URI)
   */
  public static TruthFile load(Configuration conf, String file, String unlabelledRoot) {
    Path path = new Path(file);
    Path root = null;
    List<Entry> entries = new ArrayList<>();
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (!fs.exists(path)) {
        throw new UsageError("Cannot read truth file " + file + ": it does not exist. Fix --truth or data.hidden-labels.");
      }
      if (unlabelledRoot != null) {
        Path r = new Path(unlabelledRoot);
        root = r.getFileSystem(conf).makeQualified(r);
      }
      try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(path), StandardCharsets.UTF_8))) {
        String name = path.getName().toLowerCase(Locale.ROOT);
        Character sep = name.endsWith(".tsv") ? Character.valueOf('\t') : name.endsWith(".csv") ? Character.valueOf(',') : null;
        Map<String, Entry> seen = new HashMap<>();
        String text;
        int line = 0;
        while ((text = in.readLine()) != null) {
          line++;
          if (text.isBlank() || text.startsWith("#")) {
            continue;
          }
          if (sep == null) {
            sep = text.indexOf('\t') >= 0 ? '\t' : ',';
          }
          String[] fields = text.split(java.util.regex.Pattern.quote(sep.toString()), -1);
          if (fields.length != 2) {
            throw error(file, line, "expected 2 fields (image" + (sep == '\t' ? "<TAB>" : ",") + "class), found "
                + fields.length + (sep == ',' ? "; use a .tsv file for paths with commas" : ""));
          }
          String image = unquote(fields[0]);
          String cls = unquote(fields[1]);
          if (seen.isEmpty() && entries.isEmpty() && PATH_HEADERS.contains(image.toLowerCase(Locale.ROOT))
              && CLASS_HEADERS.contains(cls.toLowerCase(Locale.ROOT))) {
            continue; // the optional header
          }
          if (image.isEmpty() || cls.isEmpty()) {
            throw error(file, line, "the image or the class is empty");
          }
          Entry e = new Entry(line, resolve(fs, root, image, file, line), cls);
          Entry before = seen.putIfAbsent(e.uri(), e);
          if (before != null && !before.className().equals(cls)) {
            throw error(file, line, e.uri() + " has class " + cls + " here and " + before.className()
                + " on line " + before.line());
          }
          if (before == null) {
            entries.add(e);
          }
        }
      }
    } catch (IOException e) {
      throw new UsageError("Cannot read truth file " + file + ": " + e.getMessage() + ".", e);
    }
    return new TruthFile(path, entries);
  }

  private static String resolve(FileSystem fs, Path root, String image, String file, int line) {
    boolean full = image.startsWith("/") || image.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*");
    if (full) {
      Path p = new Path(image);
      try {
        return p.getFileSystem(fs.getConf()).makeQualified(p).toString();
      } catch (IOException | IllegalArgumentException e) {
        throw error(file, line, "cannot read " + image + " as a URI: " + e.getMessage());
      }
    }
    if (root == null) {
      throw error(file, line, image + " is a relative path, but the unlabelled images come from a listing:"
          + " give full URIs as in data.unlabelled-listing");
    }
    return new Path(root, image).toString();
  }

  private static String unquote(String field) {
    String f = field.trim();
    return f.length() >= 2 && f.startsWith("\"") && f.endsWith("\"") ? f.substring(1, f.length() - 1) : f;
  }

  private static UsageError error(String file, int line, String what) {
    return new UsageError("Cannot use truth file " + file + ", line " + line + ": " + what
        + ". One line per image: path relative to the unlabelled folder (or full URI), then its class folder name.");
  }

  /** The entries as rows (line, uri, true_name), to join with tables on the full URI. */
  public org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> rows(org.apache.spark.sql.SparkSession spark) {
    List<org.apache.spark.sql.Row> rows = entries().stream()
        .map(e -> org.apache.spark.sql.RowFactory.create(e.line(), e.uri(), e.className())).toList();
    return spark.createDataFrame(rows, new org.apache.spark.sql.types.StructType()
        .add("line", org.apache.spark.sql.types.DataTypes.IntegerType, false)
        .add("uri", org.apache.spark.sql.types.DataTypes.StringType, false)
        .add("true_name", org.apache.spark.sql.types.DataTypes.StringType, false));
  }

  public List<Entry> entries() {
    return entries;
  }

  /** Fails on the first class that is not a training folder name. */
  public void checkClasses(List<String> classes) {
    Set<String> known = new HashSet<>(classes);
    for (Entry e : entries) {
      if (!known.contains(e.className())) {
        throw error(file.toString(), e.line(), "class " + e.className() + " is not a folder of the training"
            + " images (known: " + (classes.size() <= 10 ? classes : classes.subList(0, 10) + "...") + ")");
      }
    }
  }

  /** Fails on the first image {@code listed} does not know: a path that matches no unlabelled file. */
  public void checkPaths(Predicate<String> listed) {
    for (Entry e : entries) {
      if (!listed.test(e.uri())) {
        throw error(file.toString(), e.line(), e.uri() + " matches no file of the unlabelled images");
      }
    }
  }

  /** Fails naming the line of {@code uri}: for checks made elsewhere (a join in Spark). */
  public UsageError unknownPath(String uri) {
    for (Entry e : entries) {
      if (e.uri().equals(uri)) {
        return error(file.toString(), e.line(), uri + " matches no file of the unlabelled images");
      }
    }
    return new UsageError("Cannot use truth file " + file + ": " + uri + " matches no file of the unlabelled images.");
  }
}
