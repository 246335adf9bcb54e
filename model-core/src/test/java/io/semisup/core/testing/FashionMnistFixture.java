package io.semisup.core.testing;

import io.semisup.core.data.FashionMnist;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The first {@value #SIZE} Fashion-MNIST training images and their labels, checked in under
 * {@code model-core/src/test/resources/}{@value #RESOURCE} as IDX files like the Debian package's
 * (about 55 KB), so that {@link FashionMnist#load} reads them unchanged.
 *
 * <p>Why: the parity tests of the training kernels compare gradients on real pictures, and must
 * run on every machine, with or without {@code dataset-fashion-mnist}. {@value #SIZE} images are
 * the largest minibatch those tests use ({@code TrainingKernelsTest}).
 *
 * <p>Written once, on request, from the installed package (the files are in git; rerun only to
 * change {@link #SIZE}): {@code mvn -q -o -pl model-core test-compile && java -cp
 * model-core/target/test-classes:model-core/target/classes io.semisup.core.testing.FashionMnistFixture
 * model-core/src/test/resources/}{@value #RESOURCE}.
 */
public final class FashionMnistFixture {

  /** Images in the fixture: the first of the training split, in order. */
  public static final int SIZE = 128;

  /** Class-path folder of the fixture. */
  public static final String RESOURCE = "fashion-mnist-first-128";

  private static final String IMAGES = "train-images-idx3-ubyte.gz";
  private static final String LABELS = "train-labels-idx1-ubyte.gz";

  private FashionMnistFixture() {}

  /** The fixture's training split: {@value #SIZE} images. */
  public static FashionMnist train() {
    URL url = FashionMnistFixture.class.getResource("/" + RESOURCE + "/" + IMAGES);
    if (url == null) {
      throw new IllegalStateException("Cannot find the test fixture " + RESOURCE + " on the class path: "
          + "it is checked in under model-core/src/test/resources/. Restore it from git.");
    }
    try {
      return FashionMnist.load(Path.of(url.toURI()).getParent(), true);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the fixture from the installed package into the folder given as the only argument. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: FashionMnistFixture OUTPUT_DIR (e.g. model-core/src/test/resources/" + RESOURCE + ")");
      System.exit(2);
    }
    Path from = Path.of(System.getProperty(Prerequisites.FASHION_MNIST_PROPERTY, Prerequisites.FASHION_MNIST_DIR));
    Path to = Files.createDirectories(Path.of(args[0]));
    copyHead(from.resolve(IMAGES), to.resolve(IMAGES), 2051, FashionMnist.PIXELS);
    copyHead(from.resolve(LABELS), to.resolve(LABELS), 2049, 1);
    System.out.println("wrote the first " + SIZE + " training images of " + from + " to " + to);
  }

  /** Copies an IDX file's header, with the count set to SIZE, and its first SIZE records. */
  private static void copyHead(Path from, Path to, int magic, int recordBytes) throws IOException {
    try (InputStream raw = Files.newInputStream(from);
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw));
        OutputStream file = Files.newOutputStream(to);
        DataOutputStream out = new DataOutputStream(new GZIPOutputStream(file))) {
      if (in.readInt() != magic) {
        throw new UncheckedIOException(new IOException("Cannot read " + from + ": not an IDX file with magic " + magic));
      }
      int n = in.readInt();
      if (n < SIZE) {
        throw new IllegalStateException("Cannot take " + SIZE + " records from " + from + ": it has " + n);
      }
      out.writeInt(magic);
      out.writeInt(SIZE);
      if (recordBytes > 1) {
        out.writeInt(in.readInt()); // rows
        out.writeInt(in.readInt()); // columns
      }
      byte[] records = new byte[SIZE * recordBytes];
      in.readFully(records);
      out.write(records);
    }
  }
}
