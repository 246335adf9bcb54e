package io.semisup.core.enorm;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Equi-normalization (ENorm; Stock, Graham, Gribonval, Jégou, <i>Equi-normalization of Neural
 * Networks</i>, ICLR 2019): rescales the hidden units of a ReLU network, without changing the
 * function it computes, so that its weights have the smallest (c-weighted) L2 norm; one
 * {@link #cycle} after each SGD step regularizes training in place of batch norm where batches
 * are too small for it.
 *
 * <p>For each {@link RescalablePair} (see {@link RescalablePairs} for which layers qualify), in
 * topological order, and each hidden unit, {@code d = sqrt(||outgoing|| / (c * ||incoming||))}
 * with the norms over the unit's whole kernels (its row of incoming weights, its column of
 * outgoing weights); the incoming weights and the bias are multiplied by d and the outgoing
 * weights divided by d. Afterwards {@code ||outgoing|| = c * ||incoming||} for that unit. Norms
 * are taken fresh before each pair (block coordinate descent), so with c = 1 the sum of squared
 * weights never increases, and repeated cycles converge to the unique balanced point (the
 * paper's Theorem 1); with c &ne; 1 the weighted sum {@code sum_k c^(-2k) ||W_k||^2} does.
 *
 * <p>Momentum: as the reference implementation, each pair's SGD momentum buffer is rescaled as the
 * gradient transforms under the reparametrization (the incoming layer's weights and bias buffers
 * divided by d, the outgoing layer's multiplied by d; see {@link MomentumState}).
 *
 * <p>Cost: a handful of vectorized ND4J ops per pair on the weights (norms over small tensors,
 * two broadcast products), no per-element Java work beyond the per-unit factors. Not thread-safe:
 * call it between steps, on the thread that trains.
 *
 * <p>Parameter averaging (dl4j-spark): workers that each run their own cycles end up with
 * replicas in different bases (the same function, different per-unit scales), and averaging
 * them averages weights that do not correspond; see {@code EnormHook} in pipeline-jobs for what
 * the project does about it.
 */
public final class EquiNormalizer {

  private static final String W = DefaultParamInitializer.WEIGHT_KEY;
  private static final String B = DefaultParamInitializer.BIAS_KEY;

  private final ComputationGraph graph;
  private final double c;
  private final List<RescalablePair> pairs;
  private INDArray momentumSource;
  private Map<String, INDArray> momentum;

  /**
   * @param c the asymmetry of the balance, ||outgoing|| = c * ||incoming|| per unit (the paper's
   *     runs use 1 to 1.2)
   * @throws IllegalArgumentException when c is not positive
   */
  public EquiNormalizer(ComputationGraph graph, double c) {
    if (!(c > 0) || Double.isInfinite(c)) {
      throw new IllegalArgumentException(
          "Cannot equi-normalize with c = " + c + ": it must be a positive number (1 to 1.2 in the paper)");
    }
    this.graph = graph;
    this.c = c;
    this.pairs = RescalablePairs.of(graph);
  }

  /** The pairs this normalizer rescales, in the order it does. */
  public List<RescalablePair> pairs() {
    return pairs;
  }

  public double c() {
    return c;
  }

  /** One cycle: every pair rescaled once, in topological order, momentum included. */
  public void cycle() {
    Map<String, INDArray> v = momentumViews();
    for (RescalablePair p : pairs) {
      rescale(p, v);
    }
  }

  private void rescale(RescalablePair p, Map<String, INDArray> v) {
    Layer in = graph.getLayer(p.producer());
    Layer out = graph.getLayer(p.consumer());
    INDArray wIn = in.getParam(W);
    INDArray wOut = out.getParam(W);
    // Unit axis: conv kernels [nOut, nIn, kH, kW], dense weights [nIn, nOut].
    int inAxis = p.producerConv() ? 0 : 1;
    int outAxis = p.consumerConv() ? 1 : 0;
    INDArray inNorms = p.producerConv() ? wIn.norm2(1, 2, 3) : wIn.norm2(0);
    INDArray outNorms = p.consumerConv() ? wOut.norm2(0, 2, 3) : wOut.norm2(1);
    INDArray d = factors(inNorms.toDoubleVector(), outNorms.toDoubleVector(), wIn);
    inNorms.close();
    outNorms.close();

    Nd4j.exec(new BroadcastMulOp(wIn, d, wIn, inAxis));
    Nd4j.exec(new BroadcastDivOp(wOut, d, wOut, outAxis));
    INDArray bias = in.paramTable().get(B);
    if (bias != null) {
      bias.muli(d.reshape(bias.shape()));
    }
    INDArray vIn = v.get(p.producer() + "/" + W);
    if (vIn != null) {
      Nd4j.exec(new BroadcastDivOp(vIn, d, vIn, inAxis));
    }
    INDArray vBias = v.get(p.producer() + "/" + B);
    if (vBias != null) {
      vBias.divi(d.reshape(vBias.shape()));
    }
    INDArray vOut = v.get(p.consumer() + "/" + W);
    if (vOut != null) {
      Nd4j.exec(new BroadcastMulOp(vOut, d, vOut, outAxis));
    }
    d.close();
  }

  /** d per unit; 1 where a side is all zeros (nothing to balance, and no division by 0). */
  private INDArray factors(double[] inNorms, double[] outNorms, INDArray like) {
    double[] d = new double[inNorms.length];
    for (int u = 0; u < d.length; u++) {
      double f = Math.sqrt(outNorms[u] / (c * inNorms[u]));
      d[u] = Double.isFinite(f) && f > 0 ? f : 1.0;
    }
    if (like.dataType() == DataType.DOUBLE) {
      return Nd4j.createFromArray(d);
    }
    float[] f = new float[d.length];
    for (int u = 0; u < d.length; u++) {
      f[u] = (float) d[u];
    }
    INDArray out = Nd4j.createFromArray(f);
    return like.dataType() == DataType.FLOAT ? out : out.castTo(like.dataType());
  }

  /** The momentum views, looked up again only when the updater's state array changed. */
  private Map<String, INDArray> momentumViews() {
    INDArray state = graph.getUpdater() == null ? null : graph.getUpdater().getStateViewArray();
    if (momentum == null || state != momentumSource) {
      momentum = MomentumState.of(graph);
      momentumSource = state;
    }
    return momentum;
  }
}
