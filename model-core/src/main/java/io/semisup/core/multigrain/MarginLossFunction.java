package io.semisup.core.multigrain;

import io.semisup.core.multigrain.DistanceWeightedSampling.Triplet;
import java.util.List;
import java.util.Random;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The margin loss as a DL4J loss function, for a training-only {@code LossLayer} fed by the
 * pooling layer: its "labels" are one column holding each batch row's image group (rows of one
 * group are augmentations of one image), its pre-output the raw pooled features.
 *
 * <p>Why a loss function and not a layer: DL4J hands a loss function the whole minibatch, which a
 * batch-coupled loss needs, and routes its gradient into the pooled layer, added to the
 * classifier's. {@code beta} cannot be a DL4J parameter here (a loss function has none, and a
 * SameDiff layer cannot express the random, data-dependent choice of negatives), so it lives in
 * this object: each gradient call records {@code dL/dbeta} and the trainer applies the same
 * Nesterov SGD step and learning rate the network gets ({@link #stepBeta}). The negatives are drawn
 * from a {@link Random} seeded by (seed, step), so DL4J's separate score and gradient calls of one
 * step see the same triplets.
 *
 * <p>Returns {@code (1 - lambda)} times the loss, and, since DL4J's updater divides summed
 * gradients by the minibatch size, {@code b (1 - lambda) dL/dz} as the gradient.
 */
public final class MarginLossFunction implements ILossFunction {

  private static final long serialVersionUID = 1L;

  private final double weight;
  private final double margin;
  private final long seed;
  private double beta;
  private double velocity;
  private long step;
  private MarginLoss.Result last;

  /**
   * @param weight the loss's weight in the objective, {@code 1 - lambda}
   * @param margin alpha
   * @param betaInit beta's starting value
   * @param seed seeds the negatives' draws
   */
  public MarginLossFunction(double weight, double margin, double betaInit, long seed) {
    this.weight = weight;
    this.margin = margin;
    this.beta = betaInit;
    this.seed = seed;
  }

  /** The current beta. */
  public double beta() {
    return beta;
  }

  /** The unweighted loss, gradient and counts of the latest gradient call (null before one). */
  public MarginLoss.Result last() {
    return last;
  }

  /** Starts step {@code s}: its negatives are drawn from (seed, s). */
  public void startStep(long s) {
    step = s;
  }

  /**
   * One Nesterov SGD step on beta with the last recorded gradient (weighted like the loss), as
   * DL4J's {@code Nesterovs} updater steps the network's parameters.
   */
  public void stepBeta(double learningRate, double momentum) {
    if (last == null) {
      return;
    }
    double g = weight * last.gradBeta();
    double previous = velocity;
    velocity = momentum * velocity - learningRate * g;
    beta += -momentum * previous + (1 + momentum) * velocity;
  }

  private MarginLoss.Result evaluate(INDArray labels, INDArray preOutput) {
    double[][] z = preOutput.reshape(preOutput.size(0), -1).toDoubleMatrix();
    double[] g = labels.reshape(labels.size(0), -1).getColumn(0).toDoubleVector();
    int[] group = new int[g.length];
    for (int i = 0; i < g.length; i++) {
      group[i] = (int) Math.round(g[i]);
    }
    Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + step);
    List<Triplet> triplets = DistanceWeightedSampling.sample(MarginLoss.normalize(z), group, rnd);
    return MarginLoss.compute(z, triplets, beta, margin);
  }

  @Override
  public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn,
      INDArray mask, boolean average) {
    double loss = weight * evaluate(labels, preOutput).loss();
    return average ? loss : loss * preOutput.size(0);
  }

  @Override
  public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn,
      INDArray mask) {
    // A batch-coupled loss has no per-example score: each row carries the batch's loss.
    double loss = weight * evaluate(labels, preOutput).loss();
    return Nd4j.valueArrayOf(new long[] {preOutput.size(0), 1}, loss).castTo(preOutput.dataType());
  }

  @Override
  public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn,
      INDArray mask) {
    last = evaluate(labels, preOutput);
    double[][] g = last.gradZ();
    int b = g.length;
    int d = g[0].length;
    double s = weight * b;
    float[] flat = new float[b * d];
    for (int i = 0; i < b; i++) {
      for (int k = 0; k < d; k++) {
        flat[i * d + k] = (float) (s * g[i][k]);
      }
    }
    return Nd4j.create(flat, preOutput.shape(), 'c').castTo(preOutput.dataType());
  }

  @Override
  public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
      IActivation activationFn, INDArray mask, boolean average) {
    INDArray grad = computeGradient(labels, preOutput, activationFn, mask);
    double loss = weight * last.loss();
    return new Pair<>(average ? loss : loss * preOutput.size(0), grad);
  }

  @Override
  public String name() {
    return "multigrain-margin";
  }

  @Override
  public String toString() {
    return "MarginLossFunction(weight=" + weight + ", margin=" + margin + ", beta=" + beta + ")";
  }
}
