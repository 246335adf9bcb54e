package io.semisup.core.scoring;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a classifier on preprocessed images. Keeps the scoring stage independent of the deep
 * learning engine, so a teacher trained with DL4J today can be served by another engine later
 * without touching the pipeline.
 *
 * <p>Not thread-safe unless {@link #concurrent()} says so: engines hold per-call buffers and
 * native state. Otherwise use one scorer per thread (in Spark: one per partition iterator, or one
 * per executor JVM guarded by the caller), and {@link #close()} it when done.
 */
public interface Scorer extends AutoCloseable {

  /** Length of each probability row. */
  int numClasses();

  /**
   * Softmax outputs, one row of {@link #numClasses()} per image.
   *
   * @param chwBatch one CHW tensor per image, each as produced by the model's Preprocessor
   */
  float[][] probabilities(float[][] chwBatch);

  /**
   * Whether {@link #probabilities} may run on several threads at once. An engine that allows it
   * lets an executor's tasks each run their own batch, instead of taking turns (see the scoring
   * stage's engine settings for when that is faster).
   */
  default boolean concurrent() {
    return false;
  }

  /**
   * Class probabilities and image embeddings of one batch, rows in batch order.
   *
   * @param embeddings the pooled features ({@code Architectures.POOL}), L2-normalised
   */
  record Outputs(float[][] probabilities, float[][] embeddings) {}

  /** Whether {@link #probabilitiesAndEmbeddings} works for this model. */
  default boolean embeds() {
    return false;
  }

  /**
   * Probabilities and embeddings from one forward pass: the embedding is the layer the
   * classifier reads, so it costs a copy, not a second pass over the images.
   *
   * @throws UnsupportedOperationException when {@link #embeds()} is false
   */
  default Outputs probabilitiesAndEmbeddings(float[][] chwBatch) {
    throw new UnsupportedOperationException("This model has no embedding output: export it with"
        + " OnnxExporter (output '" + OnnxExporter.EMBEDDING + "') or score without embeddings");
  }

  /** The p best classes of each image, in batch order. */
  default List<TopP> score(float[][] chwBatch, int p) {
    float[][] probs = probabilities(chwBatch);
    List<TopP> out = new ArrayList<>(probs.length);
    for (float[] row : probs) {
      out.add(TopP.of(row, p));
    }
    return out;
  }

  @Override
  void close();

  /** Refuses a tensor that does not fit the model's input, naming the image and the fix. */
  static void checkTensor(float[] row, int index, io.semisup.core.image.InputSpec spec) {
    int size = spec.size();
    if (row == null || row.length != size) {
      throw new IllegalArgumentException(
          "Cannot score image " + index + " of the batch: its tensor has "
              + (row == null ? "no" : String.valueOf(row.length)) + " values, the model needs "
              + size + " (" + spec + "). Preprocess with this model's InputSpec");
    }
  }
}
