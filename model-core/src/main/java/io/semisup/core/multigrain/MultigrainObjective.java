package io.semisup.core.multigrain;

import java.io.Serializable;

/**
 * The MultiGrain training objective (Berman et al., arXiv:1902.05509): {@code lambda} times the
 * classifier's cross-entropy plus {@code 1 - lambda} times a margin loss over the L2-normalised
 * pooled embeddings, on batches in which every image appears {@code repeats} times with
 * independent augmentations (the positives of the margin loss).
 *
 * <p>Why a value of its own rather than more fields of {@code TrainingConfig}: only the teacher
 * uses it, and the recipe record is shared by every trainer.
 *
 * @param lambda weight of the cross-entropy, in [0, 1] (the paper's 0.5)
 * @param margin the margin alpha of the margin loss (0.2)
 * @param betaInit starting value of the learnable boundary beta between positive and negative
 *     distances (1.2)
 * @param repeats copies of each image in a batch, each augmented independently (3)
 */
public record MultigrainObjective(double lambda, double margin, double betaInit, int repeats)
    implements Serializable {

  /** The paper's settings: lambda 0.5, margin 0.2, beta 1.2, 3 repeats. */
  public static final MultigrainObjective PAPER = new MultigrainObjective(0.5, 0.2, 1.2, 3);

  public MultigrainObjective {
    if (!(lambda >= 0 && lambda <= 1)) {
      throw new IllegalArgumentException("Cannot weigh cross-entropy by lambda = " + lambda + ": must be in [0, 1]");
    }
    if (!(margin > 0 && margin <= 2)) {
      throw new IllegalArgumentException("Cannot use margin " + margin + ": must be in (0, 2]");
    }
    if (!(betaInit > 0 && betaInit <= 2)) {
      throw new IllegalArgumentException("Cannot start beta at " + betaInit
          + ": distances of unit vectors lie in [0, 2]");
    }
    if (repeats < 2) {
      throw new IllegalArgumentException("Cannot repeat each image " + repeats
          + " times: the margin loss needs at least 2 copies (positives)");
    }
  }

  /** Distinct images in a batch of {@code batchSize} rows; fails unless repeats divide it. */
  public int imagesPerBatch(int batchSize) {
    if (batchSize % repeats != 0 || batchSize / repeats < 2) {
      throw new IllegalArgumentException("Cannot fill a batch of " + batchSize + " with " + repeats
          + " copies of each image: the batch size must be a multiple of repeats with at least 2 images");
    }
    return batchSize / repeats;
  }
}
