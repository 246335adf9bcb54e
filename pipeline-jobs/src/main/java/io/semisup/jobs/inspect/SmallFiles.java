package io.semisup.jobs.inspect;

import java.io.IOException;
import java.nio.file.Files;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes the many small files of a report or an export (a page per class, a thumbnail per image).
 * On the local file system, without Hadoop's native library (the usual case off a cluster),
 * Hadoop sets each new file's permissions by forking {@code chmod}: thousands of forks took the
 * 1,000-class report from seconds to minutes on a loaded machine. Local files are therefore
 * written with java.nio (no checksum file beside them, which Hadoop's reader does not need);
 * every other file system through Hadoop.
 */
public final class SmallFiles {

  private SmallFiles() {}

  /** Writes (replaces) {@code file} with {@code bytes}, creating its parent folders. */
  public static void write(FileSystem fs, Path file, byte[] bytes) throws IOException {
    if (fs instanceof LocalFileSystem local) {
      java.nio.file.Path target = local.pathToFile(file).toPath();
      Files.createDirectories(target.getParent());
      Files.write(target, bytes);
      return;
    }
    try (FSDataOutputStream out = fs.create(file, true)) {
      out.write(bytes);
    }
  }
}
