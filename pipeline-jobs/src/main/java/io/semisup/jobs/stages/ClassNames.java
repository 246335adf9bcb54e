package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.UsageError;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Readable names for class folder names ({@code data.class-names}, e.g. ImageNet's synset list:
 * {@code n01440764<TAB>tench, Tinca tinca}), one per line; names of classes the run does not have
 * are ignored. {@code shard} records the run's own in {@code classes.json} ({@code "names"}); the
 * report shows them and {@code export} writes them, for the notebook.
 */
public final class ClassNames {

  private ClassNames() {}

  /** The mapping file's names for {@code classes} (those it has); empty when {@code file} is empty. */
  static Map<String, String> load(Configuration conf, String file, List<String> classes) {
    Map<String, String> names = new LinkedHashMap<>();
    if (file.isEmpty()) {
      return names;
    }
    Path path = new Path(file);
    Map<String, String> all = new java.util.HashMap<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(path.getFileSystem(conf).open(path), StandardCharsets.UTF_8))) {
      String text;
      int line = 0;
      while ((text = in.readLine()) != null) {
        line++;
        if (text.isBlank() || text.startsWith("#")) {
          continue;
        }
        int tab = text.indexOf('\t');
        if (tab <= 0 || tab == text.length() - 1) {
          throw new UsageError("Cannot use class names file " + file + ", line " + line
              + ": expected <class folder name><TAB><readable name>. Fix the line or data.class-names.");
        }
        all.put(text.substring(0, tab).trim(), text.substring(tab + 1).trim());
      }
    } catch (IOException e) {
      throw new UsageError("Cannot read class names file " + file + ": " + e.getMessage() + ". Fix data.class-names.", e);
    }
    for (String c : classes) {
      if (all.containsKey(c)) {
        names.put(c, all.get(c));
      }
    }
    return names;
  }

  /** The readable names shard recorded for this run (class folder name -> name; may be empty). */
  public static Map<String, String> of(RunContext ctx) {
    Path file = new Path(ctx.stageDir(ShardStage.NAME), ShardStage.CLASSES);
    Map<String, String> names = new LinkedHashMap<>();
    try {
      if (!ctx.fs().exists(file)) {
        return names; // a run without shard output of its own (tests, a brought teacher's run)
      }
      JsonNode node = RunContext.json().readTree(ctx.readBytes(file)).path("names");
      node.fields().forEachRemaining(e -> names.put(e.getKey(), e.getValue().asText()));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + file + ": " + e.getMessage(), e);
    }
    return names;
  }

  /** {@code n01440764 (tench, Tinca tinca)}, or the folder name alone when it has no readable name. */
  public static String label(Map<String, String> names, String className) {
    String readable = names.get(className);
    return readable == null ? className : className + " (" + readable + ")";
  }
}
