package io.semisup.core.scoring;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import java.util.Objects;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Scorer} for DL4J ComputationGraphs with one NCHW input and one softmax output. One
 * INDArray per batch and inference mode ({@code output(false, ...)}): dropout and batch-norm
 * behave as at evaluation time, so scores do not depend on the batch an image lands in.
 *
 * <p>The graph stays owned by the caller (e.g. a broadcast {@link ModelBundle}); closing the
 * scorer does not close it. Not thread-safe.
 */
public final class Dl4jScorer implements Scorer {
  private final ComputationGraph graph;
  private final InputSpec spec;
  private final int numClasses;
  private boolean closed;

  public Dl4jScorer(ComputationGraph graph, InputSpec spec) {
    this.graph = Objects.requireNonNull(graph, "graph");
    this.spec = Objects.requireNonNull(spec, "spec");
    ComputationGraphConfiguration conf = graph.getConfiguration();
    if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
      throw new IllegalArgumentException(
          "Cannot score with a graph of " + conf.getNetworkInputs().size() + " inputs and "
              + conf.getNetworkOutputs().size() + " outputs: need exactly one of each");
    }
    GraphVertex out = conf.getVertices().get(conf.getNetworkOutputs().get(0));
    if (!(out instanceof LayerVertex lv
        && lv.getLayerConf().getLayer() instanceof FeedForwardLayer f)) {
      throw new IllegalArgumentException(
          "Cannot score with this graph: its output vertex '" + conf.getNetworkOutputs().get(0)
              + "' is not a layer with a known number of outputs. End the graph with an"
              + " OutputLayer (softmax)");
    }
    this.numClasses = Math.toIntExact(f.getNOut());
  }

  /** Scorer for a bundle's graph, preparing input as its metadata says. */
  public static Dl4jScorer of(ModelBundle bundle) {
    return new Dl4jScorer(bundle.graph(), bundle.metadata().input());
  }

  public InputSpec spec() {
    return spec;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public float[][] probabilities(float[][] chwBatch) {
    if (closed) {
      throw new IllegalStateException("Cannot score: this scorer is closed. Create a new one");
    }
    int n = chwBatch.length;
    if (n == 0) {
      return new float[0][];
    }
    int size = spec.size();
    float[] flat = new float[n * size];
    for (int i = 0; i < n; i++) {
      float[] row = chwBatch[i];
      Scorer.checkTensor(row, i, spec);
      System.arraycopy(row, 0, flat, i * size, size);
    }
    INDArray input = Nd4j.create(flat,
        new long[] {n, spec.channels(), spec.height(), spec.width()}, 'c');
    DataType netType = graph.params() == null ? DataType.FLOAT : graph.params().dataType();
    INDArray cast = netType == DataType.FLOAT ? input : input.castTo(netType);
    INDArray output = null;
    try {
      output = graph.output(false, cast)[0];
      float[][] probs = output.toFloatMatrix();
      if (probs.length != n || probs[0].length != numClasses) {
        throw new IllegalStateException(
            "Cannot score: the graph returned " + probs.length + "x" + probs[0].length
                + " for a batch of " + n + " and " + numClasses + " classes");
      }
      return probs;
    } finally {
      release(input);
      if (cast != input) {
        release(cast);
      }
      if (output != null) {
        release(output);
      }
    }
  }

  @Override
  public boolean embeds() {
    return graph.getConfiguration().getVertices().containsKey(
        io.semisup.core.model.Architectures.POOL);
  }

  /** The output and the pooled features of one inference-mode forward pass. */
  @Override
  public Outputs probabilitiesAndEmbeddings(float[][] chwBatch) {
    if (!embeds()) {
      return Scorer.super.probabilitiesAndEmbeddings(chwBatch);
    }
    if (closed) {
      throw new IllegalStateException("Cannot score: this scorer is closed. Create a new one");
    }
    int n = chwBatch.length;
    if (n == 0) {
      return new Outputs(new float[0][], new float[0][]);
    }
    int size = spec.size();
    float[] flat = new float[n * size];
    for (int i = 0; i < n; i++) {
      Scorer.checkTensor(chwBatch[i], i, spec);
      System.arraycopy(chwBatch[i], 0, flat, i * size, size);
    }
    INDArray input = Nd4j.create(flat,
        new long[] {n, spec.channels(), spec.height(), spec.width()}, 'c');
    DataType netType = graph.params() == null ? DataType.FLOAT : graph.params().dataType();
    INDArray cast = netType == DataType.FLOAT ? input : input.castTo(netType);
    java.util.Map<String, INDArray> acts =
        graph.feedForward(new INDArray[] {cast}, false, false);
    float[][] probs = acts.get(graph.getConfiguration().getNetworkOutputs().get(0))
        .castTo(DataType.FLOAT).toFloatMatrix();
    float[][] emb = acts.get(io.semisup.core.model.Architectures.POOL).castTo(DataType.FLOAT)
        .reshape(n, -1).toFloatMatrix();
    for (float[] row : emb) {
      io.semisup.core.dedup.Embeddings.normalize(row);
    }
    return new Outputs(probs, emb);
  }

  /** Frees native memory now instead of at the next GC (batches are large and frequent). */
  private static void release(INDArray a) {
    if (a.closeable()) {
      a.close();
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
