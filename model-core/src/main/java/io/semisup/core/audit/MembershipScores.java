package io.semisup.core.audit;

/**
 * Per-image membership scores: the loss of a model on an image's true label, {@code -ln p(y|x)}.
 * Déjà Vu (Sablayrolles et al., arXiv:1809.06396) and its companion work on membership inference
 * show that the best attack depends on the model only through this loss: an image the model was
 * trained on tends to have a lower loss than one from the same distribution it never saw.
 */
public final class MembershipScores {

  /** Probabilities below this are clamped, so a confident mistake scores a large finite loss. */
  public static final double MIN_PROBABILITY = 1e-12;

  private MembershipScores() {}

  /** {@code -ln p[label]} of one softmax row (all classes). */
  public static double loss(float[] probs, int label) {
    if (label < 0 || label >= probs.length) {
      throw new IllegalArgumentException(
          "Cannot score label " + label + " against " + probs.length + " class probabilities");
    }
    return -Math.log(Math.max(probs[label], MIN_PROBABILITY));
  }

  /**
   * The loss from a top-P row (classes and probabilities, highest first). When the true label is
   * not among the P kept classes its probability is unknown but at most the smallest kept one and
   * at most the mass the kept classes leave: the smaller of the two is used, a lower bound of the
   * loss. Scoring with P = the number of classes (as the audit stage does) makes it exact.
   */
  public static double lossFromTopP(int[] classes, float[] probs, int label) {
    double kept = 0;
    for (int i = 0; i < classes.length; i++) {
      if (classes[i] == label) {
        return -Math.log(Math.max(probs[i], MIN_PROBABILITY));
      }
      kept += probs[i];
    }
    double smallest = probs.length == 0 ? 1.0 : probs[probs.length - 1];
    return -Math.log(Math.max(Math.min(smallest, 1.0 - kept), MIN_PROBABILITY));
  }

  /** Losses of many softmax rows. */
  public static double[] losses(float[][] probs, int[] labels) {
    if (probs.length != labels.length) {
      throw new IllegalArgumentException(
          "Cannot score " + probs.length + " probability rows against " + labels.length + " labels");
    }
    double[] out = new double[probs.length];
    for (int i = 0; i < probs.length; i++) {
      out[i] = loss(probs[i], labels[i]);
    }
    return out;
  }
}
