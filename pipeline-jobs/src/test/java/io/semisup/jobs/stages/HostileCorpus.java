package io.semisup.jobs.stages;

import io.semisup.core.image.HostileImages;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A folder tree in ImageNet layout whose unlabelled folder holds what a crawl or a user's disk
 * really contains: files that are not images, files cut short, decompression bombs, colour
 * variants and orientations the JDK decodes wrongly, and file-system traps (a FIFO, symlink
 * loops, a symlink to nothing, unreadable entries, a file deleted between listing and reading).
 * {@link #expected} says, per file, what the shard stage must make of it: {@link #KEPT} or the
 * reject reason.
 */
final class HostileCorpus {

  /** Expected outcome of a file that decodes and is kept. */
  static final String KEPT = "KEPT";

  final Path root;
  final Path train;
  final Path val;
  final Path unlabelled;
  /** File name (unique over the corpus) -> KEPT or the reject reason. */
  final Map<String, String> expected = new LinkedHashMap<>();
  /** The file the listing hook deletes before it is read. */
  final Path vanishing;
  /** Whether the permission cases were planted (not as root, who reads everything). */
  boolean permissionCases;

  /** Stored 64 x 32, EXIF orientation 6: shard must record it as 32 x 64. */
  static final String ROTATED = "exif-rotate-90.jpg";
  static final String SHARED = "shared-train-val.png";
  static final String COPY_OF_TRAIN = "copy-of-train.png";

  private HostileCorpus(Path root) throws IOException {
    this.root = root;
    this.train = root.resolve("train");
    this.val = root.resolve("val");
    this.unlabelled = Files.createDirectories(root.resolve("unlabelled"));
    this.vanishing = unlabelled.resolve("vanishing.png");
  }

  /** Writes the corpus under {@code root} (an empty folder). */
  static HostileCorpus write(Path root) throws IOException {
    HostileCorpus c = new HostileCorpus(root);
    c.labelled();
    c.decoderCases();
    c.fileSystemCases();
    return c;
  }

  private void labelled() throws IOException {
    for (String split : new String[] {"train", "val"}) {
      for (String cls : new String[] {"a", "b"}) {
        Path d = Files.createDirectories(root.resolve(split).resolve(cls));
        for (int i = 0; i < 3; i++) {
          put(d, split + "-" + cls + i + ".png", noisePng(split.hashCode() * 31L + cls.hashCode() * 7L + i), KEPT);
        }
      }
    }
    // The same image in both labelled splits: evaluation keeps it, training rejects its copy.
    byte[] shared = noisePng(77);
    put(val.resolve("a"), SHARED, shared, KEPT);
    Files.write(train.resolve("a").resolve(SHARED), shared); // outcome keyed by split in the test
    put(train.resolve("b"), "train-cmyk.jpg", HostileImages.cmykJpeg(64, 48), KEPT);
    put(train.resolve("a"), "train-truncated.png", HostileImages.cut(noisePng(78), 0.5), "TRUNCATED");
  }

  private void decoderCases() throws IOException {
    BufferedImage q = HostileImages.quadrants(64, 64);
    put(unlabelled, "zero-bytes.jpg", new byte[0], "EMPTY");
    put(unlabelled, "truncated.jpg", HostileImages.cut(HostileImages.jpeg(q), 0.5), "TRUNCATED");
    put(unlabelled, "truncated.png", HostileImages.cut(HostileImages.png(q), 0.5), "TRUNCATED");
    put(unlabelled, "error-page.jpg", HostileImages.html(), "NOT_AN_IMAGE");
    put(unlabelled, "notes.jpg", HostileImages.text(), "NOT_AN_IMAGE");
    put(unlabelled, "random.bin", HostileImages.randomBytes(7, 4096), "NOT_AN_IMAGE");
    put(unlabelled, "header-only.png", HostileImages.headerOnlyPng(64, 64), "TRUNCATED");
    put(unlabelled, "bomb.png", HostileImages.pngBomb(40_000), "TOO_LARGE");
    // Decodes in about a second of CPU (90 Mpx, every scan over the whole image): past the
    // test's shard.max-decode-millis, far below the default.
    put(unlabelled, "slow-progressive.jpg",
        HostileImages.progressiveJpeg(new BufferedImage(10_000, 9_000, BufferedImage.TYPE_BYTE_GRAY)), "TIMEOUT");
    put(unlabelled, "png16.png", HostileImages.png16(64, 64), KEPT);
    put(unlabelled, "cmyk.jpg", HostileImages.cmykJpeg(64, 64), KEPT);
    put(unlabelled, "ycck.jpg", HostileImages.ycckJpeg(64, 64), KEPT);
    put(unlabelled, ROTATED, HostileImages.exifJpeg(64, 32, 6), KEPT);
    put(unlabelled, "progressive.jpg", HostileImages.progressiveJpeg(q), KEPT);
    put(unlabelled, "palette.gif", HostileImages.gif(HostileImages.paletted(64, 64)), KEPT);
    put(unlabelled, "image.bmp", HostileImages.bmp(q), KEPT);
    put(unlabelled, "one-pixel.png", HostileImages.png(HostileImages.quadrants(1, 1)), KEPT);
    put(unlabelled, "wide-4000x2.png", HostileImages.png(HostileImages.quadrants(4000, 2)), KEPT);
    byte[] dup = noisePng(99);
    put(unlabelled, "dup-a.png", dup, KEPT);
    put(unlabelled, "dup-b.png", dup, "DUPLICATE");
    put(unlabelled, COPY_OF_TRAIN, Files.readAllBytes(train.resolve("a").resolve("train-a0.png")),
        "SAME_AS_LABELLED");
  }

  private void fileSystemCases() throws IOException {
    put(unlabelled, vanishing.getFileName().toString(), noisePng(100), "NOT_FOUND");
    Files.createSymbolicLink(unlabelled.resolve("self-loop.jpg"), Paths.get("self-loop.jpg"));
    expected.put("self-loop.jpg", "UNREADABLE");
    Path cycle = Files.createDirectories(unlabelled.resolve("cycle"));
    Files.createSymbolicLink(cycle.resolve("back-up"), Paths.get(".."));
    expected.put("back-up", "UNREADABLE");
    Files.createSymbolicLink(unlabelled.resolve("dangling.jpg"), Paths.get("nowhere.jpg"));
    expected.put("dangling.jpg", "NOT_FOUND");
    Path fifo = unlabelled.resolve("fifo.jpg");
    run("mkfifo", fifo.toString());
    expected.put("fifo.jpg", "UNREADABLE");
    Path locked = Files.write(unlabelled.resolve("no-permission.png"), noisePng(101));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    permissionCases = !Files.isReadable(locked);
    if (permissionCases) {
      expected.put("no-permission.png", "UNREADABLE");
      Path closed = Files.createDirectories(unlabelled.resolve("closed-folder"));
      Files.write(closed.resolve("inside.png"), noisePng(102));
      Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("---------"));
      expected.put("closed-folder", "UNREADABLE");
    } else {
      Files.delete(locked);
      System.out.println("[hostile corpus] running as root, who may read any file: the two "
          + "permission cases (a file and a folder with mode 000) are left out; the FIFO and the "
          + "symlink loops still cover UNREADABLE");
    }
  }

  /** Makes the permission cases deletable again (the temp folder's cleanup needs it). */
  void restorePermissions() throws IOException {
    if (permissionCases) {
      Files.setPosixFilePermissions(unlabelled.resolve("closed-folder"), PosixFilePermissions.fromString("rwx------"));
      Files.setPosixFilePermissions(unlabelled.resolve("no-permission.png"), PosixFilePermissions.fromString("rw-------"));
    }
  }

  private Path put(Path dir, String name, byte[] bytes, String outcome) throws IOException {
    Path p = Files.write(dir.resolve(name), bytes);
    expected.put(name, outcome);
    return p;
  }

  /** A 28x28 grey PNG of seeded noise: distinct per seed. */
  static byte[] noisePng(long seed) {
    Random rnd = new Random(seed);
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
      }
    }
    return HostileImages.png(img);
  }

  private static void run(String... command) throws IOException {
    try {
      Process p = new ProcessBuilder(command).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IOException("Cannot run " + String.join(" ", command) + ": exit " + p.exitValue());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted", e));
    }
  }
}
