package io.semisup.core.scoring;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Scorer} on ONNX Runtime. Scoring the unlabelled set is the pipeline's most expensive
 * inference step, and ONNX Runtime ran the same CNNs about ten times faster than DL4J on the
 * project's CPUs (docs/benchmarks.md, bench score), close to the hardware limit; so teachers are scored here
 * while training stays in DL4J.
 *
 * <p>Three ways to get one:
 *
 * <ul>
 *   <li>{@link #of(ModelBundle)}: a DL4J teacher, exported on the fly with {@link OnnxExporter}.
 *   <li>The constructor: ONNX bytes (e.g. an exported model broadcast once to all executors)
 *       plus the {@link InputSpec} and class count.
 *   <li>{@link #fromFiles(Path, Path)}: a teacher trained elsewhere (PyTorch, ...), brought as an
 *       {@code .onnx} file plus a metadata JSON file in {@link ModelMetadata#toJson()} format, e.g.
 *       <pre>{@code
 * {"modelId": "my-teacher", "architecture": "torch-resnet18",
 *  "classNames": ["t-shirt", "trouser", ...],
 *  "input": {"height": 28, "width": 28, "channels": 1, "mean": [0.286], "std": [0.353]},
 *  "seed": 0, "extra": {}}
 * }</pre>
 *       The model must take one float NCHW input of that height, width and channels, normalized
 *       as {@code (pixel / 255 - mean) / std}, and its first output must be the softmax
 *       probabilities, shape [batch, number of class names], in class-name order. Input and
 *       output names are free; the batch dimension may be symbolic.
 * </ul>
 *
 * <p>{@link Options} choose the number of intra-op threads (default: ONNX Runtime's, one per
 * core) and whether to ask for the CUDA execution provider. CUDA needs the {@code
 * onnxruntime_gpu} artifact (Maven profile {@code cuda}) and a GPU; when either is missing the
 * scorer logs a warning and runs on the CPU, so one configuration works on every executor.
 *
 * <p>Owns a native session: {@link #close()} it. Thread-safe: ONNX Runtime runs one session on
 * several threads at once, each call takes an input buffer of its own from a pool (as many as
 * calls ever ran at once), and {@link #close()} waits for the calls in progress.
 */
public final class OnnxScorer implements Scorer {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxScorer.class);

  /**
   * Engine options.
   *
   * @param intraOpThreads threads one inference may use; 0 = ONNX Runtime's default (all cores)
   * @param cuda ask for the CUDA execution provider (falls back to CPU when unavailable)
   * @param cudaDevice GPU ordinal when {@code cuda}
   */
  public record Options(int intraOpThreads, boolean cuda, int cudaDevice) {
    public Options {
      if (intraOpThreads < 0) {
        throw new IllegalArgumentException(
            "Cannot use " + intraOpThreads + " intra-op threads: give 0 (default) or more");
      }
      if (cudaDevice < 0) {
        throw new IllegalArgumentException("Cannot use CUDA device " + cudaDevice);
      }
    }

    /** CPU, ONNX Runtime's default thread count. */
    public static Options defaults() {
      return new Options(0, false, 0);
    }

    public Options withIntraOpThreads(int n) {
      return new Options(n, cuda, cudaDevice);
    }

    public Options withCuda(boolean useCuda) {
      return new Options(intraOpThreads, useCuda, cudaDevice);
    }
  }

  private final OrtEnvironment env;
  private final OrtSession session;
  private final InputSpec spec;
  private final int numClasses;
  private final String inputName;
  private final String outputName;
  /** {@link OnnxExporter#EMBEDDING} when the model has that output, else null. */
  private final String embeddingName;
  private final boolean onCuda;
  /** Direct input buffers not in use, reused across calls (no copy into ORT). */
  private final ConcurrentLinkedQueue<FloatBuffer> buffers = new ConcurrentLinkedQueue<>();
  /** Calls hold the read lock, {@link #close()} the write lock. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile boolean closed;

  /** A CPU scorer with ONNX Runtime's default threads. */
  public OnnxScorer(byte[] onnxModel, InputSpec spec, int numClasses) {
    this(onnxModel, spec, numClasses, Options.defaults());
  }

  /**
   * @param onnxModel a serialized ONNX model (one float NCHW input, softmax first output)
   * @param spec the input the model expects
   * @param numClasses length of the model's probability rows
   */
  public OnnxScorer(byte[] onnxModel, InputSpec spec, int numClasses, Options options) {
    this(onnxModel, spec, numClasses, options, OrtSession.SessionOptions.OptLevel.ALL_OPT);
  }

  /**
   * Checks that ONNX Runtime loads the model and that its input and output fit {@code spec} and
   * {@code numClasses}, without preparing it for speed (no graph optimization, one thread): how a
   * driver validates a teacher in about the time it takes to read it, before executors load it
   * for real.
   *
   * @throws IllegalArgumentException saying what does not fit
   */
  public static void check(byte[] onnxModel, InputSpec spec, int numClasses) {
    new OnnxScorer(onnxModel, spec, numClasses, Options.defaults().withIntraOpThreads(1),
        OrtSession.SessionOptions.OptLevel.NO_OPT).close();
  }

  private OnnxScorer(byte[] onnxModel, InputSpec spec, int numClasses, Options options,
      OrtSession.SessionOptions.OptLevel optLevel) {
    Objects.requireNonNull(onnxModel, "onnxModel");
    this.spec = Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(options, "options");
    if (numClasses < 1) {
      throw new IllegalArgumentException("Cannot score into " + numClasses + " classes");
    }
    this.numClasses = numClasses;
    this.env = OrtEnvironment.getEnvironment();
    boolean cuda = false;
    OrtSession s;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizationLevel(optLevel);
      if (options.intraOpThreads() > 0) {
        so.setIntraOpNumThreads(options.intraOpThreads());
      }
      if (options.cuda()) {
        cuda = addCuda(so, options.cudaDevice());
      }
      s = env.createSession(onnxModel, so);
    } catch (OrtException e) {
      throw new IllegalArgumentException("Cannot load the ONNX model (" + onnxModel.length
          + " bytes) into ONNX Runtime: " + e.getMessage() + ". Is it a valid ONNX model?", e);
    }
    this.session = s;
    this.onCuda = cuda;
    try {
      String[] names = checkSignature();
      this.inputName = names[0];
      this.outputName = names[1];
      this.embeddingName = names[2];
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  private static boolean addCuda(OrtSession.SessionOptions so, int device) {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      LOG.warn("CUDA scoring requested but this ONNX Runtime has no CUDA provider (available: {})."
          + " Scoring on the CPU; build with -Pcuda (onnxruntime_gpu) to use the GPU",
          OrtEnvironment.getAvailableProviders());
      return false;
    }
    try {
      so.addCUDA(device);
      LOG.info("Scoring with ONNX Runtime's CUDA provider on device {}", device);
      return true;
    } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
      LOG.warn("CUDA scoring requested but the CUDA provider did not start on device {} ({})."
          + " Scoring on the CPU", device, e.getMessage());
      return false;
    }
  }

  /**
   * Checks the model's first input/output against the spec and class count; the names of its
   * input, first output and embedding output (null when it has none).
   */
  private String[] checkSignature() {
    try {
      if (session.getNumInputs() != 1) {
        throw new IllegalArgumentException("Cannot score with an ONNX model of "
            + session.getNumInputs() + " inputs: need one float NCHW image input");
      }
      Map.Entry<String, NodeInfo> in = session.getInputInfo().entrySet().iterator().next();
      long[] want = {-1, spec.channels(), spec.height(), spec.width()};
      checkShape("input '" + in.getKey() + "'", in.getValue(), want);
      Map.Entry<String, NodeInfo> out = session.getOutputInfo().entrySet().iterator().next();
      checkShape("output '" + out.getKey() + "'", out.getValue(), new long[] {-1, numClasses});
      NodeInfo emb = session.getOutputInfo().get(OnnxExporter.EMBEDDING);
      String embName = null;
      if (emb != null && !out.getKey().equals(OnnxExporter.EMBEDDING)) {
        checkShape("output '" + OnnxExporter.EMBEDDING + "'", emb, new long[] {-1, -1});
        embName = OnnxExporter.EMBEDDING;
      }
      return new String[] {in.getKey(), out.getKey(), embName};
    } catch (OrtException e) {
      throw new IllegalArgumentException("Cannot read the ONNX model's signature: "
          + e.getMessage(), e);
    }
  }

  /** Fixed dimensions must match; symbolic ones (-1) are accepted. */
  private void checkShape(String what, NodeInfo info, long[] want) {
    if (!(info.getInfo() instanceof TensorInfo t)
        || t.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
      throw new IllegalArgumentException("Cannot score with this ONNX model: its " + what
          + " is " + info.getInfo() + ", need a float tensor");
    }
    long[] have = t.getShape();
    boolean ok = have.length == want.length;
    for (int i = 0; ok && i < have.length; i++) {
      ok = have[i] < 0 || want[i] < 0 || have[i] == want[i];
    }
    if (!ok) {
      throw new IllegalArgumentException("Cannot score with this ONNX model: its " + what
          + " has shape " + Arrays.toString(have) + ", the metadata implies "
          + Arrays.toString(want).replace("-1", "batch") + " (" + spec + ", " + numClasses
          + " classes)");
    }
  }

  /** The bundle's DL4J graph exported to ONNX now, scored on the CPU with default threads. */
  public static OnnxScorer of(ModelBundle bundle) {
    return of(bundle, Options.defaults());
  }

  /** The bundle's DL4J graph exported to ONNX now. */
  public static OnnxScorer of(ModelBundle bundle, Options options) {
    return new OnnxScorer(OnnxExporter.toBytes(bundle), bundle.metadata().input(),
        bundle.metadata().numClasses(), options);
  }

  /** A teacher brought as an ONNX file plus {@link ModelMetadata} JSON (see class doc). */
  public static OnnxScorer fromFiles(Path onnx, Path metadataJson) {
    return fromFiles(onnx, metadataJson, Options.defaults());
  }

  /** As {@link #fromFiles(Path, Path)}, with engine options. */
  public static OnnxScorer fromFiles(Path onnx, Path metadataJson, Options options) {
    ModelMetadata meta;
    byte[] model;
    try {
      meta = ModelMetadata.fromJson(Files.readString(metadataJson, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model metadata " + metadataJson.toAbsolutePath()
          + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Cannot read model metadata "
          + metadataJson.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    try {
      model = Files.readAllBytes(onnx);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read ONNX model " + onnx.toAbsolutePath() + ": "
          + e.getMessage(), e);
    }
    try {
      return new OnnxScorer(model, meta.input(), meta.numClasses(), options);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Cannot use ONNX model " + onnx.toAbsolutePath()
          + " with metadata " + metadataJson.toAbsolutePath() + ": " + e.getMessage(), e);
    }
  }

  public InputSpec spec() {
    return spec;
  }

  /** Whether inference runs on the CUDA provider (false: CPU). */
  public boolean onCuda() {
    return onCuda;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public boolean concurrent() {
    return true;
  }

  @Override
  public boolean embeds() {
    return embeddingName != null;
  }

  @Override
  public float[][] probabilities(float[][] chwBatch) {
    return forward(chwBatch, false).probabilities();
  }

  @Override
  public Outputs probabilitiesAndEmbeddings(float[][] chwBatch) {
    if (embeddingName == null) {
      return Scorer.super.probabilitiesAndEmbeddings(chwBatch);
    }
    return forward(chwBatch, true);
  }

  private Outputs forward(float[][] chwBatch, boolean embeddings) {
    int n = chwBatch.length;
    if (n == 0) {
      return new Outputs(new float[0][], embeddings ? new float[0][] : null);
    }
    int size = spec.size();
    for (int i = 0; i < n; i++) {
      Scorer.checkTensor(chwBatch[i], i, spec);
    }
    lifecycle.readLock().lock();
    FloatBuffer in = null;
    try {
      if (closed) {
        throw new IllegalStateException("Cannot score: this scorer is closed. Create a new one");
      }
      in = buffer(n * size);
      for (float[] row : chwBatch) {
        in.put(row);
      }
      in.flip();
      return run(in, n, embeddings);
    } finally {
      if (in != null) {
        buffers.add(in);
      }
      lifecycle.readLock().unlock();
    }
  }

  private Outputs run(FloatBuffer in, int n, boolean embeddings) {
    long[] shape = {n, spec.channels(), spec.height(), spec.width()};
    // Only the outputs asked for are copied out of ONNX Runtime.
    java.util.Set<String> wanted = embeddings
        ? new java.util.LinkedHashSet<>(java.util.List.of(outputName, embeddingName))
        : java.util.Set.of(outputName);
    try (OnnxTensor x = OnnxTensor.createTensor(env, in, shape);
        OrtSession.Result result = session.run(Map.of(inputName, x), wanted)) {
      OnnxValue v = result.get(outputName).orElseThrow();
      FloatBuffer out = ((OnnxTensor) v).getFloatBuffer();
      if (out.remaining() != (long) n * numClasses) {
        throw new IllegalStateException("Cannot score: the model returned " + out.remaining()
            + " values for a batch of " + n + " and " + numClasses + " classes");
      }
      float[][] probs = new float[n][numClasses];
      for (float[] row : probs) {
        out.get(row);
      }
      float[][] emb = null;
      if (embeddings) {
        FloatBuffer e = ((OnnxTensor) result.get(embeddingName).orElseThrow()).getFloatBuffer();
        int dim = e.remaining() / n;
        emb = new float[n][dim];
        for (float[] row : emb) {
          e.get(row);
          io.semisup.core.dedup.Embeddings.normalize(row);
        }
      }
      return new Outputs(probs, emb);
    } catch (OrtException e) {
      throw new IllegalStateException("Cannot score a batch of " + n + " with ONNX Runtime: "
          + e.getMessage(), e);
    }
  }

  /**
   * A direct buffer of at least {@code floats} for one call: a free one from the pool, or a new
   * one when all are in use or too small (a smaller one is dropped, so sizes settle on the batch).
   */
  private FloatBuffer buffer(int floats) {
    FloatBuffer b = buffers.poll();
    if (b == null || b.capacity() < floats) {
      b = ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder())
          .asFloatBuffer();
    }
    b.clear();
    b.limit(floats);
    return b;
  }

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        closeQuietly();
        buffers.clear();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  private void closeQuietly() {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.warn("Closing the ONNX Runtime session failed: {}", e.getMessage());
    }
  }
}
