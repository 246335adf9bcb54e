package io.semisup.jobs.spark;

import io.semisup.core.image.RejectReason;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Lists a local folder tree for {@link ImageSource} so that every entry ends up as a row: a
 * regular file to read, or a reject with its reason. Hadoop's local listing silently skips
 * entries it cannot stat (a broken symlink, a symlink pointing at itself), follows a symlink to
 * an ancestor folder until the path is too long (every file listed dozens of times), fails the
 * whole listing on one unreadable sub-folder, and lists FIFOs as files (reading one blocks
 * forever). Here: an unreadable folder, a symlink loop and anything that is not a regular file
 * (FIFO, socket, device) are {@code UNREADABLE}; a symlink to nothing is {@code NOT_FOUND}.
 * Plain NIO, one stat per entry (no {@code ls} fork per file as Hadoop's permission lookups do).
 */
final class LocalListing {

  private LocalListing() {}

  /** Appends rows of {@link ImageSource#LISTED} for every entry under {@code root}. */
  static void collect(Path root, boolean labelled, List<Row> rows) throws IOException {
    Deque<Path> ancestors = new ArrayDeque<>();
    ancestors.push(root.toRealPath());
    walk(root, labelled, rows, ancestors);
  }

  private static void walk(Path dir, boolean labelled, List<Row> rows, Deque<Path> ancestors)
      throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      entries.forEach(children::add);
    }
    children.sort(null);
    String label = labelled ? dir.getFileName().toString() : null;
    for (Path child : children) {
      String name = child.getFileName().toString();
      if (name.startsWith(".") || name.startsWith("_")) {
        continue; // hidden files and folders (".DS_Store", "_SUCCESS") are not inputs, as in Hadoop
      }
      String uri = uri(child);
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(child, BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        boolean link = Files.isSymbolicLink(child);
        rows.add(reject(uri, label, RejectReason.NOT_FOUND,
            link ? "symlink to a missing target " + Files.readSymbolicLink(child) : "gone while listing"));
        continue;
      } catch (FileSystemException e) {
        rows.add(reject(uri, label, RejectReason.UNREADABLE, describe(child, e)));
        continue;
      }
      if (attrs.isDirectory()) {
        Path real;
        try {
          real = child.toRealPath();
        } catch (IOException e) {
          rows.add(reject(uri, label, RejectReason.UNREADABLE, describe(child, e)));
          continue;
        }
        if (ancestors.contains(real)) {
          rows.add(reject(uri, label, RejectReason.UNREADABLE,
              "symlink loop: folder leads back to its ancestor " + real));
          continue;
        }
        ancestors.push(real);
        try {
          walk(child, labelled, rows, ancestors);
        } catch (IOException e) {
          rows.add(reject(uri, label, RejectReason.UNREADABLE, "cannot list folder: " + describe(child, e)));
        } finally {
          ancestors.pop();
        }
      } else if (attrs.isRegularFile()) {
        rows.add(RowFactory.create(uri, attrs.size(), label, null, null));
      } else {
        rows.add(reject(uri, label, RejectReason.UNREADABLE,
            "not a regular file (a FIFO, socket or device: reading it could block or never end)"));
      }
    }
  }

  /** The uri as Hadoop's listing writes it ({@code file:/dir/name}), so later stages agree. */
  static String uri(Path p) {
    // From the path string: Path.toUri() ends a folder (a symlink to one, too) with "/".
    return new org.apache.hadoop.fs.Path("file", null, p.toAbsolutePath().toString()).toString();
  }

  private static String describe(Path p, IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException fse && fse.getReason() != null
        && fse.getReason().toLowerCase(java.util.Locale.ROOT).contains("symbolic link")) {
      return "symlink loop: " + fse.getReason();
    }
    if (Files.isSymbolicLink(p) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return "broken symlink";
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static Row reject(String uri, String label, RejectReason reason, String detail) {
    return RowFactory.create(uri, -1L, label, reason.name(), detail);
  }
}
