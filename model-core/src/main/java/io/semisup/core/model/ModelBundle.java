package io.semisup.core.model;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained model as one file: weights, updater state and the {@link ModelMetadata} that says
 * how to use them. One artifact means a teacher cannot be scored with the wrong class names or
 * normalization, and one byte array ({@link #toBytes()}) is all Spark needs to broadcast.
 *
 * <p>Format: a zip with {@code metadata.json} (UTF-8 JSON) and {@code model.bin} (the bytes of
 * DL4J's {@code ModelSerializer.writeModel(graph, out, true)}, stored uncompressed since it is a
 * zip itself). Updater state is kept so a model can be fine-tuned where it left off.
 *
 * <p>IO failures surface as {@link UncheckedIOException} whose message names what failed.
 */
public final class ModelBundle {
  static final String METADATA_ENTRY = "metadata.json";
  static final String MODEL_ENTRY = "model.bin";

  private final ComputationGraph graph;
  private final ModelMetadata metadata;

  public ModelBundle(ComputationGraph graph, ModelMetadata metadata) {
    this.graph = Objects.requireNonNull(graph, "graph");
    this.metadata = Objects.requireNonNull(metadata, "metadata");
    long outputs = outputSize(graph);
    if (outputs >= 0 && outputs != metadata.numClasses()) {
      throw new IllegalArgumentException(
          "Cannot bundle model " + metadata.modelId() + ": the graph has " + outputs
              + " outputs but the metadata lists " + metadata.numClasses()
              + " classes. Build the graph with nOut = number of classes");
    }
  }

  /** nOut of the single output layer, or -1 when it cannot be told from the configuration. */
  static long outputSize(ComputationGraph graph) {
    var conf = graph.getConfiguration();
    if (conf.getNetworkOutputs().size() != 1) {
      return -1;
    }
    GraphVertex v = conf.getVertices().get(conf.getNetworkOutputs().get(0));
    if (v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof FeedForwardLayer f) {
      return f.getNOut();
    }
    return -1;
  }

  public ComputationGraph graph() {
    return graph;
  }

  public ModelMetadata metadata() {
    return metadata;
  }

  /** Writes the bundle zip; {@code out} is flushed, not closed. */
  public void writeTo(OutputStream out) {
    byte[] model = modelBytes();
    try (ZipOutputStream zip = new ZipOutputStream(new KeepOpen(out))) {
      zip.putNextEntry(new ZipEntry(METADATA_ENTRY));
      zip.write(metadata.toJson().getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
      ZipEntry entry = new ZipEntry(MODEL_ENTRY);
      entry.setMethod(ZipEntry.STORED);
      entry.setSize(model.length);
      entry.setCompressedSize(model.length);
      CRC32 crc = new CRC32();
      crc.update(model);
      entry.setCrc(crc.getValue());
      zip.putNextEntry(entry);
      zip.write(model);
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write model bundle " + metadata.modelId() + ": " + e.getMessage(), e);
    }
  }

  private byte[] modelBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(graph, bytes, true);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot serialize the graph of model " + metadata.modelId() + ": " + e.getMessage(), e);
    }
    return bytes.toByteArray();
  }

  /** Reads a bundle zip written by {@link #writeTo}; {@code in} is read to the end of the zip. */
  public static ModelBundle readFrom(InputStream in) {
    try {
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model bundle: " + e.getMessage()
          + ". Is it a file written by ModelBundle.save/writeTo?", e);
    }
  }

  private static ModelBundle read(InputStream in) throws IOException {
    byte[] meta = null;
    byte[] model = null;
    ZipInputStream zip = new ZipInputStream(in);
    for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
      if (e.getName().equals(METADATA_ENTRY)) {
        meta = zip.readAllBytes();
      } else if (e.getName().equals(MODEL_ENTRY)) {
        model = zip.readAllBytes();
      }
    }
    if (meta == null && model == null) {
      throw new IOException("not a model bundle (no " + METADATA_ENTRY + " and no " + MODEL_ENTRY
          + " zip entries)");
    }
    if (meta == null || model == null) {
      throw new IOException("entry " + (meta == null ? METADATA_ENTRY : MODEL_ENTRY)
          + " is missing from the zip");
    }
    ModelMetadata metadata;
    try {
      metadata = ModelMetadata.fromJson(new String(meta, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IOException(METADATA_ENTRY + " is invalid: " + e.getMessage(), e);
    }
    ComputationGraph graph;
    try {
      graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(model), true);
    } catch (IOException | RuntimeException e) {
      throw new IOException(MODEL_ENTRY + " is not a DL4J ComputationGraph: " + e, e);
    }
    try {
      return new ModelBundle(graph, metadata);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** The bundle zip as bytes, e.g. to broadcast to Spark executors. */
  public byte[] toBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeTo(out);
    return out.toByteArray();
  }

  public static ModelBundle fromBytes(byte[] bytes) {
    return readFrom(new ByteArrayInputStream(bytes));
  }

  /** Writes the bundle to a file atomically (temp file + rename), creating parent folders. */
  public void save(Path file) {
    Path abs = file.toAbsolutePath();
    Path tmp = null;
    try {
      Files.createDirectories(abs.getParent());
      tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
        writeTo(out);
      }
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UncheckedIOException e) {
      deleteQuietly(tmp);
      throw new UncheckedIOException("Cannot save model bundle " + metadata.modelId() + " to "
          + abs + ": " + e.getMessage() + ". Check that the folder is writable",
          e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
    } catch (RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    }
  }

  /** Reads a bundle file written by {@link #save}. */
  public static ModelBundle load(Path file) {
    Path abs = file.toAbsolutePath();
    if (!Files.exists(abs)) {
      throw new UncheckedIOException("Cannot load model bundle " + abs
          + ": the file does not exist. Check the path, or train/copy the model first",
          new NoSuchFileException(abs.toString()));
    }
    if (Files.isDirectory(abs)) {
      throw new UncheckedIOException("Cannot load model bundle " + abs
          + ": it is a directory. Give the bundle file inside it",
          new IOException(abs + " is a directory"));
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(abs))) {
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model bundle " + abs + ": " + e.getMessage()
          + ". Is it a file written by ModelBundle.save?", e);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // best effort: the temp file has a .tmp suffix and is never read
      }
    }
  }

  /** Lets a ZipOutputStream be closed (releasing its deflater) without closing the target. */
  private static final class KeepOpen extends FilterOutputStream {
    KeepOpen(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      out.flush();
    }
  }
}
