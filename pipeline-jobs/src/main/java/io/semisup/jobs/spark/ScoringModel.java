package io.semisup.jobs.spark;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.scoring.Dl4jScorer;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.scoring.Scorer;
import java.io.Serializable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A model as it travels to executors for inference: the engine to run it on and the bytes that
 * engine loads. ONNX Runtime is the default because it runs our networks about ten times faster
 * than DL4J on CPU (see docs/benchmarks.md, {@code bench score}); DL4J stays available as the
 * reference engine.
 *
 * @param modelId the model's id and backend, e.g. {@code run1/teacher/onnx} (for reports)
 * @param digest SHA-256 of {@code bytes}: executors cache one engine per digest, so two models
 *     that happen to share an id never share an engine
 */
public record ScoringModel(String modelId, String digest, String backend, byte[] bytes,
    InputSpec spec, int numClasses, ScoringEngine engine) implements Serializable {

  public static final List<String> BACKENDS = List.of("onnx", "dl4j");

  /** Prepares a pipeline-trained model for the configured backend (exports to ONNX once, here). */
  public static ScoringModel of(ModelBundle bundle, byte[] bundleBytes, String backend,
      ScoringEngine engine) {
    if (!BACKENDS.contains(backend)) {
      throw new IllegalArgumentException(
          "Cannot score with backend '" + backend + "': valid are " + BACKENDS + " (score.backend).");
    }
    byte[] bytes = backend.equals("onnx") ? OnnxExporter.toBytes(bundle) : bundleBytes;
    return new ScoringModel(
        bundle.metadata().modelId() + "/" + backend, sha256(bytes), backend, bytes,
        bundle.metadata().input(), bundle.metadata().numClasses(), engine);
  }

  /** A model that already is ONNX (a teacher brought by the user), run by ONNX Runtime. */
  public static ScoringModel onnx(String modelId, byte[] onnxBytes, InputSpec spec, int numClasses,
      ScoringEngine engine) {
    return new ScoringModel(modelId + "/onnx", sha256(onnxBytes), "onnx", onnxBytes, spec,
        numClasses, engine);
  }

  /**
   * Whether the model yields embeddings besides probabilities: an ONNX output named
   * {@link OnnxExporter#EMBEDDING} (every export of a model built by {@code Architectures} has
   * one), or a DL4J graph with the pooling layer {@code Architectures.POOL}.
   */
  public boolean hasEmbeddingOutput() {
    if (backend.equals("onnx")) {
      try {
        return onnx.Onnx.ModelProto.parseFrom(bytes).getGraph().getOutputList().stream()
            .anyMatch(o -> o.getName().equals(OnnxExporter.EMBEDDING));
      } catch (org.nd4j.shade.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("Cannot read ONNX model " + modelId + ": "
            + e.getMessage(), e);
      }
    }
    return ModelBundle.fromBytes(bytes).graph().getConfiguration().getVertices()
        .containsKey(io.semisup.core.model.Architectures.POOL);
  }

  /** Loads the engine; called once per executor JVM through {@link ExecutorModels}. */
  Scorer open() {
    if (backend.equals("onnx")) {
      return new OnnxScorer(bytes, spec, numClasses,
          OnnxScorer.Options.defaults().withIntraOpThreads(engine.threads())
              .withCuda(engine.cuda()));
    }
    return Dl4jScorer.of(ModelBundle.fromBytes(bytes));
  }

  /**
   * Whether an executor's tasks may run batches on {@code scorer} at the same time: asked for by
   * the configuration and allowed by the engine (DL4J always takes turns).
   */
  boolean runsConcurrently(Scorer scorer) {
    return engine.concurrent() && scorer.concurrent();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("This JVM has no SHA-256", e);
    }
  }
}
