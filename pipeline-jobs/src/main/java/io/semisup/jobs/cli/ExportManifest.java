package io.semisup.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.stages.RunContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The files one export wrote into its folder ({@value #NAME}), so that {@code export --force}
 * replaces exactly those: {@code --out} may name a folder that also holds the user's own files
 * (notes, a notebook, other exports), and those must survive a re-export.
 */
final class ExportManifest {

  /** File name of the manifest inside the export folder. */
  static final String NAME = "export-manifest.json";

  private ExportManifest() {}

  /** Every file under {@code dir}, as paths relative to it. */
  static Set<String> files(FileSystem fs, Path dir) throws IOException {
    Set<String> out = new TreeSet<>();
    if (!fs.exists(dir)) {
      return out;
    }
    String base = fs.makeQualified(dir).toUri().getPath();
    collect(fs, fs.makeQualified(dir), base, out);
    return out;
  }

  /**
   * Walks with listStatus, not listFiles: a LocatedFileStatus reads each local file's
   * permissions, which Hadoop without its native library does by forking a shell per file
   * (minutes for the thumbnails of 1,000 classes).
   */
  private static void collect(FileSystem fs, Path folder, String base, Set<String> out) throws IOException {
    for (org.apache.hadoop.fs.FileStatus s : fs.listStatus(folder)) {
      if (s.isDirectory()) {
        collect(fs, s.getPath(), base, out);
      } else {
        String p = s.getPath().toUri().getPath();
        out.add(p.substring(base.length() + (base.endsWith("/") ? 0 : 1)));
      }
    }
  }

  /** Records {@code written} (relative paths) as this export's files. */
  static void write(FileSystem fs, Path dir, Set<String> written) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("written_by", "semisup export");
    m.put("files", new ArrayList<>(written));
    try (var os = fs.create(new Path(dir, NAME), true)) {
      os.write(RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    }
  }

  /**
   * Deletes the files an earlier export listed, then the folders that this left empty, and
   * returns how many files went. Without a manifest nothing is deleted.
   */
  static int deleteEarlier(FileSystem fs, Path dir) throws IOException {
    Path manifest = new Path(dir, NAME);
    if (!fs.exists(manifest)) {
      return 0;
    }
    JsonNode files;
    try (InputStream in = fs.open(manifest)) {
      files = RunContext.json().readTree(in).path("files");
    }
    List<Path> parents = new ArrayList<>();
    int deleted = 0;
    for (JsonNode f : files) {
      String rel = f.asText();
      if (rel.isEmpty() || rel.startsWith("/") || rel.contains("..")) {
        continue; // never outside the folder, whatever the manifest says
      }
      Path p = new Path(dir, rel);
      if (fs.exists(p) && fs.getFileStatus(p).isFile() && fs.delete(p, false)) {
        deleted++;
      }
      for (Path q = p.getParent(); q != null && q.depth() > dir.depth(); q = q.getParent()) {
        parents.add(q);
      }
    }
    parents.sort(Comparator.comparingInt(Path::depth).reversed());
    for (Path q : parents) {
      if (fs.exists(q) && fs.getFileStatus(q).isDirectory() && fs.listStatus(q).length == 0) {
        fs.delete(q, false);
      }
    }
    fs.delete(manifest, false);
    return deleted;
  }
}
